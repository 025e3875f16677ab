import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import type { ApiContext } from "../api-context.ts";
import { bounded } from "../deadline.ts";
import { errorBody } from "../errors.ts";

/** The probes, open without a token: alive (the process answers) and ready (the ledger answers). */
export const healthRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, { ledger, deadlineMs }) => {
  app.get("/healthz", { schema: { hide: true } }, async () => ({ ok: true }));

  app.get("/readyz", { schema: { hide: true } }, async (_request, reply) => {
    try {
      const ready = await bounded(deadlineMs, ledger.readiness());
      if (ready.behind.length === 0) return { ok: true, position: ready.position };
      return reply
        .code(503)
        .send(
          errorBody(
            "NOT_READY",
            `projections ${ready.behind.join(", ")} are not at the head (position ${ready.position}); run rebuild`,
          ),
        );
    } catch {
      return reply.code(503).send(errorBody("UNAVAILABLE", "the ledger's database is not reachable"));
    }
  });
};
