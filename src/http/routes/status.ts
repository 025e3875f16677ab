import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { statusDocument } from "../../ledger/index.ts";
import type { ApiContext } from "../api-context.ts";
import { notModified } from "../conditional.ts";
import { bounded } from "../deadline.ts";
import { noQuery, point } from "../schemas.ts";

/** What runs: now (`status`), at a point (`asof`), and the compatibility matrix. */
export const statusRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, { ledger, deadlineMs }) => {
  app.get(
    "/status",
    {
      schema: {
        summary: "what runs now: the host's versions and every active plugin (CLI `status --json`)",
        querystring: noQuery,
      },
    },
    async (request, reply) => {
      const view = await bounded(deadlineMs, ledger.status());
      if (notModified(request, reply, view.position)) return reply;
      return statusDocument(view);
    },
  );

  app.get(
    "/asof",
    {
      schema: {
        summary: "what ran at a position or an ISO-8601 time (CLI `asof <point> --json`)",
        querystring: z.strictObject({ at: point }),
      },
    },
    async (request, reply) => {
      const head = await bounded(deadlineMs, ledger.head());
      if (notModified(request, reply, head)) return reply;
      return statusDocument(await bounded(deadlineMs, ledger.asOf(request.query.at)));
    },
  );

  app.get(
    "/matrix",
    {
      schema: {
        summary: "declared compatibility and whether the running set honours it (CLI `matrix --json`)",
        querystring: noQuery,
      },
    },
    async (request, reply) => {
      const head = await bounded(deadlineMs, ledger.head());
      if (notModified(request, reply, head)) return reply;
      return bounded(deadlineMs, ledger.matrix());
    },
  );
};
