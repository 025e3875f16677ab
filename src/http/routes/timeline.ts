import { z } from "zod";
import { timelineDocument } from "../../ledger/index.ts";
import { timelineChart } from "../../timeline/chart.ts";
import { timelineCsv } from "../../timeline/csv.ts";
import { renderPng } from "../../timeline/render.ts";
import { readRouteGroup } from "../read-route.ts";
import { pluginIds, point, wholeNumber } from "../schemas.ts";

/** Which versions plugins ran over time, A/B splits included, as JSON, CSV or a PNG chart. */
export const timelineRoutes = readRouteGroup(({ atHead }, ledger) => {
  atHead(
    "/timeline",
    {
      summary: "the plugins' version intervals in a window (CLI `timeline --format json|csv|png`)",
      querystring: z.strictObject({
        plugin: pluginIds,
        from: point.optional(),
        to: point.optional(),
        format: z.enum(["json", "csv", "png"]).default("json"),
        width: wholeNumber(400, 4000).default(1200),
      }),
    },
    async (request, read, reply) => {
      const { plugin, from, to, format, width } = request.query;
      const view = await read(ledger.timeline(plugin, { from, to }));
      if (format === "csv") return reply.type("text/csv; charset=utf-8").send(timelineCsv(view.items));
      if (format === "png") {
        const chart = timelineChart(view, { plugins: plugin, width });
        return reply.type("image/png").send((await renderPng(chart.spec)).png);
      }
      return timelineDocument(view);
    },
  );
});
