import { z } from "zod";
import { itemsDocument } from "../../ledger/index.ts";
import { ApiError } from "../errors.ts";
import { readRouteGroup } from "../read-route.ts";
import { noQuery, pluginId, pluginParams, point, unitKeys, version, wholeNumber } from "../schemas.ts";

/** The plugins: what runs with its A/B split, one plugin, its catalog and history, assignment. */
export const pluginRoutes = readRouteGroup(({ current, atHead }, ledger) => {
  current(
    "/plugins",
    {
      summary:
        "every active plugin with its version and A/B split (salt and weight, to assign units locally): the `plugins` of CLI `status --json`",
      querystring: noQuery,
    },
    () => ledger.status(),
    (view) => ({ position: view.position, items: view.plugins }),
  );

  current(
    "/plugins/:id",
    {
      summary: "one active plugin, as CLI `status --json` lists it; 404 when it does not run",
      params: pluginParams,
      querystring: noQuery,
    },
    (request) => ledger.plugin(request.params.id),
    ({ position, plugin }, request) => {
      if (plugin === null) throw new ApiError(404, "NOT_FOUND", `${request.params.id} does not run`);
      return { position, plugin };
    },
  );

  atHead(
    "/plugins/:id/versions",
    {
      summary: "the released versions, in version order (CLI `versions --json`)",
      params: pluginParams,
      querystring: noQuery,
    },
    async (request, read) => itemsDocument(await read(ledger.versions(request.params.id))),
  );

  atHead(
    "/plugins/:id/history",
    {
      summary: "which version ran when, newest first (CLI `history --json`)",
      params: pluginParams,
      querystring: z.strictObject({ limit: wholeNumber(1, 1000).default(100) }),
    },
    async ({ params, query }, read) =>
      itemsDocument(await read(ledger.history(params.id, { limit: query.limit }))),
  );

  atHead(
    "/plugins/:id/diff",
    {
      summary:
        "what changes from one released version to another: features, requirements, matrix, notes (CLI `diff --json`); 404 when a version is not released",
      params: pluginParams,
      querystring: z.strictObject({ from: version, to: version }),
    },
    async (request, read) => {
      const { from, to } = request.query;
      const result = await read(ledger.diff(request.params.id, from, to));
      if (result.ok) return result.diff;
      // The parameters were checked above, so the rules can only say a version is not released;
      // anything else they say is still the client's question that has no answer.
      const message = result.violations.map((v) => v.message).join(" ");
      const invalid = result.violations.every((v) => v.code === "INVALID_INPUT");
      if (invalid) throw new ApiError(400, "INVALID_INPUT", message);
      throw new ApiError(404, "NOT_FOUND", message);
    },
  );

  atHead(
    "/assign",
    {
      summary: "the version and A/B arm of each unit, now or at a point (CLI `abtest assign --json`)",
      querystring: z.strictObject({ plugin: pluginId, unit: unitKeys, at: point.optional() }),
    },
    async ({ query }, read) =>
      itemsDocument(await read(ledger.assignMany(query.plugin, query.unit, query.at))),
  );
});
