import type { IncomingMessage, ServerResponse } from "node:http";
import fastifySwagger from "@fastify/swagger";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  LogController,
  type RawServerDefault,
} from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Ledger } from "../ledger/index.ts";
import type { Logger } from "../log.ts";
import type { ApiContext } from "./api-context.ts";
import { installBearerAuth } from "./auth.ts";
import { type ChangeHub, createChangeHub } from "./change-hub.ts";
import { classify, installErrorHandlers } from "./errors.ts";
import { auditRoutes } from "./routes/audit.ts";
import { changeRoutes } from "./routes/changes.ts";
import { checkpointRoutes } from "./routes/checkpoints.ts";
import { healthRoutes } from "./routes/health.ts";
import { pluginRoutes } from "./routes/plugins.ts";
import { statusRoutes } from "./routes/status.ts";
import { timelineRoutes } from "./routes/timeline.ts";

export type ApiOptions = {
  ledger: Ledger;
  tokens: readonly string[];
  logger: Logger;
  /** The longest a request waits for one ledger call (default 10 s). */
  deadlineMs?: number;
  /** How often an idle change stream gets a comment line (default 15 s). */
  heartbeatMs?: number;
};

export type LedgerApi = {
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, ZodTypeProvider>;
  hub: ChangeHub;
};

/**
 * The read-only HTTP API: one Fastify plugin per group of routes under /v1, the probes at the
 * root, one error handler, bearer tokens on everything but the probes. The OpenAPI document is
 * generated from the zod schemas the routes validate with.
 */
export async function buildApi(options: ApiOptions): Promise<LedgerApi> {
  const { ledger, logger } = options;
  const hub = createChangeHub({
    source: ledger,
    logger: logger.child({ component: "changes" }),
    heartbeatMs: options.heartbeatMs ?? 15_000,
  });
  const app = Fastify({
    // pino's Logger is Fastify's logger; only their type declarations differ.
    loggerInstance: logger.child({ component: "http" }) as FastifyBaseLogger,
    // A log line per request is the proxy's job; errors are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    // A malformed URL (`/v1/plugins/%E0`) and the like get the API's own error shape.
    frameworkErrors: (error, _request, reply: FastifyReply) => {
      const [status, body] = classify(error);
      void reply.code(status).send(body);
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandlers(app, logger);
  installBearerAuth(app, options.tokens);
  // Streams end before the server waits for its connections to close.
  app.addHook("preClose", async () => hub.close());

  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "plugin-ledger",
        description: "The plugin-version ledger, read-only: what runs, its history, A/B splits and changes.",
        version: "1",
      },
      components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });

  const context: ApiContext = { ledger, deadlineMs: options.deadlineMs ?? 10_000, hub };
  await app.register(healthRoutes, context);
  for (const routes of [
    statusRoutes,
    pluginRoutes,
    timelineRoutes,
    auditRoutes,
    changeRoutes,
    checkpointRoutes,
  ]) {
    await app.register(routes, { ...context, prefix: "/v1" });
  }
  app.get("/v1/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  await app.ready();
  return { app, hub };
}
