import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { itemsDocument } from "../../ledger/index.ts";
import type { ApiContext } from "../api-context.ts";
import { notModified } from "../conditional.ts";
import { bounded } from "../deadline.ts";
import { ApiError } from "../errors.ts";
import { noQuery, pluginId, pluginParams, point, unitKeys, version, wholeNumber } from "../schemas.ts";

/** The plugins: what runs with its A/B split, one plugin, its catalog and history, assignment. */
export const pluginRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, { ledger, deadlineMs }) => {
  app.get(
    "/plugins",
    {
      schema: {
        summary:
          "every active plugin with its version and A/B split (salt and weight, to assign units locally): the `plugins` of CLI `status --json`",
        querystring: noQuery,
      },
    },
    async (request, reply) => {
      const view = await bounded(deadlineMs, ledger.status());
      if (notModified(request, reply, view.position)) return reply;
      return { position: view.position, items: view.plugins };
    },
  );

  app.get(
    "/plugins/:id",
    {
      schema: {
        summary: "one active plugin, as CLI `status --json` lists it; 404 when it does not run",
        params: pluginParams,
        querystring: noQuery,
      },
    },
    async (request, reply) => {
      const { position, plugin } = await bounded(deadlineMs, ledger.plugin(request.params.id));
      if (notModified(request, reply, position)) return reply;
      if (plugin === null) throw new ApiError(404, "NOT_FOUND", `${request.params.id} does not run`);
      return { position, plugin };
    },
  );

  app.get(
    "/plugins/:id/versions",
    {
      schema: {
        summary: "the released versions, in version order (CLI `versions --json`)",
        params: pluginParams,
        querystring: noQuery,
      },
    },
    async (request, reply) => {
      const head = await bounded(deadlineMs, ledger.head());
      if (notModified(request, reply, head)) return reply;
      return itemsDocument(await bounded(deadlineMs, ledger.versions(request.params.id)));
    },
  );

  app.get(
    "/plugins/:id/history",
    {
      schema: {
        summary: "which version ran when, newest first (CLI `history --json`)",
        params: pluginParams,
        querystring: z.strictObject({ limit: wholeNumber(1, 1000).default(100) }),
      },
    },
    async (request, reply) => {
      const head = await bounded(deadlineMs, ledger.head());
      if (notModified(request, reply, head)) return reply;
      const items = await bounded(
        deadlineMs,
        ledger.history(request.params.id, { limit: request.query.limit }),
      );
      return itemsDocument(items);
    },
  );

  app.get(
    "/plugins/:id/diff",
    {
      schema: {
        summary:
          "what changes from one released version to another: features, requirements, matrix, notes (CLI `diff --json`); 404 when a version is not released",
        params: pluginParams,
        querystring: z.strictObject({ from: version, to: version }),
      },
    },
    async (request, reply) => {
      const head = await bounded(deadlineMs, ledger.head());
      if (notModified(request, reply, head)) return reply;
      const { from, to } = request.query;
      const result = await bounded(deadlineMs, ledger.diff(request.params.id, from, to));
      if (result.ok) return result.diff;
      // The parameters were checked above, so the rules can only say a version is not released;
      // anything else they say is still the client's question that has no answer.
      const message = result.violations.map((v) => v.message).join(" ");
      const invalid = result.violations.every((v) => v.code === "INVALID_INPUT");
      if (invalid) throw new ApiError(400, "INVALID_INPUT", message);
      throw new ApiError(404, "NOT_FOUND", message);
    },
  );

  app.get(
    "/assign",
    {
      schema: {
        summary: "the version and A/B arm of each unit, now or at a point (CLI `abtest assign --json`)",
        querystring: z.strictObject({ plugin: pluginId, unit: unitKeys, at: point.optional() }),
      },
    },
    async (request, reply) => {
      const { plugin, unit, at } = request.query;
      const head = await bounded(deadlineMs, ledger.head());
      if (notModified(request, reply, head)) return reply;
      return itemsDocument(await bounded(deadlineMs, ledger.assignMany(plugin, unit, at)));
    },
  );
};
