import { z } from "zod";
import { statusDocument } from "../../ledger/index.ts";
import { readRouteGroup } from "../read-route.ts";
import { noQuery, point } from "../schemas.ts";

/** What runs: now (`status`), at a point (`asof`), and the compatibility matrix. */
export const statusRoutes = readRouteGroup(({ current, atHead }, ledger) => {
  current(
    "/status",
    {
      summary: "what runs now: the host's versions and every active plugin (CLI `status --json`)",
      querystring: noQuery,
    },
    () => ledger.status(),
    (view) => statusDocument(view),
  );

  atHead(
    "/asof",
    {
      summary: "what ran at a position or an ISO-8601 time (CLI `asof <point> --json`)",
      querystring: z.strictObject({ at: point }),
    },
    async (request, read) => statusDocument(await read(ledger.asOf(request.query.at))),
  );

  atHead(
    "/matrix",
    {
      summary: "declared compatibility and whether the running set honours it (CLI `matrix --json`)",
      querystring: noQuery,
    },
    (_request, read) => read(ledger.matrix()),
  );
});
