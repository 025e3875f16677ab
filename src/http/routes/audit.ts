import { Readable } from "node:stream";
import { z } from "zod";
import { eventLine, itemsDocument } from "../../ledger/index.ts";
import { readRouteGroup } from "../read-route.ts";
import { pluginId, position, wholeNumber } from "../schemas.ts";

/** Who changed what: the audit, newest first and paged, and the events themselves, streamed. */
export const auditRoutes = readRouteGroup(({ app, atHead, read }, ledger) => {
  atHead(
    "/audit",
    {
      summary:
        "the latest events first (CLI `audit --json`); `nextBefore` is the `before` of the next page, null on the last",
      querystring: z.strictObject({
        limit: wholeNumber(1, 1000).default(20),
        plugin: pluginId.optional(),
        before: wholeNumber(1, Number.MAX_SAFE_INTEGER).optional(),
      }),
    },
    async (request, read) => {
      const { limit, plugin, before } = request.query;
      const items = await read(ledger.audit({ limit, pluginId: plugin, before }));
      const last = items.at(-1);
      return { ...itemsDocument(items), nextBefore: items.length === limit && last ? last.position : null };
    },
  );

  app.get(
    "/events",
    {
      schema: {
        summary: "every event after a position, in order, one JSON document a line (CLI `events --from N`)",
        querystring: z.strictObject({ after: position.default(0) }),
      },
    },
    async (request, reply) => {
      // Streamed as the batches are read: the socket's back-pressure paces the reads, so a
      // million events are never held in memory, and no connection is held between batches.
      // Each read is bounded: a database that stops answering ends the stream, not hangs it.
      const batches = ledger.events(request.query.after);
      const lines = async function* () {
        try {
          for (;;) {
            const next = await read(batches.next());
            if (next.done) return;
            yield `${next.value.map(eventLine).join("\n")}\n`;
          }
        } finally {
          // Not awaited: after a timed-out read it would wait for that read.
          void batches.return(undefined).catch(() => {});
        }
      };
      return reply.type("application/x-ndjson; charset=utf-8").send(Readable.from(lines()));
    },
  );
});
