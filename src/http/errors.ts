import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { DatabaseUnavailableError, isConnectionLost } from "../ledger/index.ts";
import type { Logger } from "../log.ts";

/** The one shape of every error the API answers: `{"error": {"code", "message"}}`. */
export type ErrorBody = { error: { code: string; message: string } };

/** An answer other than 200 that a route means to give (404 for a plugin that does not run, …). */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** A ledger call that took longer than the API waits (DESIGN.md: every database call is bounded). */
export class DeadlineError extends Error {}

/** What a 503 asks a client to wait: about the time a restarted server takes to take connections. */
const RETRY_AFTER_S = 5;

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/**
 * The API's one error handler: what a client did wrong is a 4xx with a sentence about it; the
 * database being away (a lost connection, or the ledger's retries given up) is a 503 with
 * `Retry-After`; anything else a 500 that says nothing of the inside (the log
 * has it). Never a stack trace in a response.
 */
export function installErrorHandlers(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const [status, body] = classify(error);
    if (status === 503) {
      logger.warn(
        { err: error, url: pathOf(request.url) },
        "request answered 503: the ledger is unavailable",
      );
      void reply.header("retry-after", String(RETRY_AFTER_S));
    } else if (status >= 500) logger.error({ err: error, url: request.url }, "request failed");
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(errorBody("NOT_FOUND", `no route ${request.method} ${pathOf(request.url)}`));
  });
}

/** Status and body of an error; also used by Fastify's framework errors (a malformed URL). */
export function classify(error: unknown): [number, ErrorBody] {
  if (error instanceof ApiError) return [error.statusCode, errorBody(error.code, error.message)];
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issue = error.validation[0];
    const where = `${error.validationContext ?? "request"}${issue?.instancePath === "/" ? "" : (issue?.instancePath ?? "").replaceAll("/", ".")}`;
    return [400, errorBody("INVALID_INPUT", `${where}: ${issue?.message ?? "is invalid"}`)];
  }
  // The ledger's own word for an argument out of range (a window that ends before it starts):
  // the client's mistake. (A TypeError is a bug of ours, and stays a 500.)
  if (error instanceof RangeError) {
    return [400, errorBody("INVALID_INPUT", firstLine(error.message))];
  }
  if (error instanceof DeadlineError) return [503, errorBody("UNAVAILABLE", error.message)];
  // The ledger retried its call for DATABASE_RETRY_MS and gave up, or a call that is not retried
  // (the probes) lost its connection: either way the client may try again later. The message
  // names no host or URL: those are the operator's to read in the log.
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  if (error instanceof DatabaseUnavailableError || isConnectionLost(error) || code === "ENOTFOUND") {
    return [503, errorBody("UNAVAILABLE", "the ledger's database is not reachable; try again later")];
  }
  const status = (error as { statusCode?: unknown }).statusCode;
  if (typeof status === "number" && status >= 400 && status < 500) {
    const message = error instanceof Error ? firstLine(error.message) : "bad request";
    return [status, errorBody(status === 404 ? "NOT_FOUND" : "BAD_REQUEST", message)];
  }
  return [500, errorBody("INTERNAL", "internal error (logged on the server)")];
}

const firstLine = (text: string) => (text.split("\n")[0] ?? "").slice(0, 300);
/** The path alone, cut short: a 404 repeats no query string (tokens may hide in one). */
const pathOf = (url: string) => (url.split("?")[0] ?? "").slice(0, 200);
