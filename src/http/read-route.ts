import type { IncomingMessage, ServerResponse } from "node:http";
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  FastifySchema,
  RawServerDefault,
  RouteGenericInterface,
} from "fastify";
import type { FastifyPluginAsyncZod, ZodTypeProvider } from "fastify-type-provider-zod";
import type { Ledger } from "../ledger/index.ts";
import type { ApiContext } from "./api-context.ts";
import { notModified } from "./conditional.ts";
import { bounded } from "./deadline.ts";

type ZodApp = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** A request as its route's zod schemas parsed it. */
export type RouteRequest<S extends FastifySchema> = FastifyRequest<
  RouteGenericInterface,
  RawServerDefault,
  IncomingMessage,
  S,
  ZodTypeProvider
>;

/** A route's schemas, declared where the route is: what it validates and what OpenAPI documents. */
export type RouteSchema = FastifySchema & { summary: string };

/** One ledger call within the API's deadline (a slow database is a 503, not a hung request). */
export type Read = <T>(call: Promise<T>) => Promise<T>;

/**
 * The GET routes of a group that answer from the ledger. Each declares its zod schemas in its own
 * call; every ledger call goes through `read`, bounded by the deadline; errors are thrown and
 * mapped once by the error handler (errors.ts). An answer read from the events is tagged with the
 * position it is current to, so a client holding that ETag gets a 304 and no second read.
 */
export function readRoutes(app: ZodApp, { ledger, deadlineMs }: ApiContext) {
  const read: Read = (call) => bounded(deadlineMs, call);

  /** GET `url`: `load` reads within the deadline, `answer` makes the reply of what it read. */
  function get<S extends RouteSchema, V>(
    url: string,
    schema: S,
    load: (request: RouteRequest<S>) => Promise<V>,
    answer: (view: V, request: RouteRequest<S>, reply: FastifyReply) => unknown,
  ): void {
    app.get(url, { schema: schema as FastifySchema }, async (request, reply) => {
      // Fastify has validated and parsed the request with `schema` before the handler runs.
      const parsed = request as unknown as RouteRequest<S>;
      return answer(await read(load(parsed)), parsed, reply);
    });
  }

  /** GET `url` whose ETag is the position `load`'s view is current to (answered 304 if held). */
  function current<S extends RouteSchema, V extends { position: number }>(
    url: string,
    schema: S,
    load: (request: RouteRequest<S>) => Promise<V>,
    answer: (view: V, request: RouteRequest<S>, read: Read, reply: FastifyReply) => unknown,
  ): void {
    get(url, schema, load, (view, request, reply) =>
      notModified(request, reply, view.position) ? reply : answer(view, request, read, reply),
    );
  }

  /** GET `url` whose ETag is the head, read first: `answer` reads what it needs after. */
  function atHead<S extends RouteSchema>(
    url: string,
    schema: S,
    answer: (request: RouteRequest<S>, read: Read, reply: FastifyReply) => unknown,
  ): void {
    current(
      url,
      schema,
      async () => ({ position: await ledger.head() }),
      (_head, request, _read, reply) => answer(request, read, reply),
    );
  }

  // `app` for what is not one answer read from the ledger (a stream).
  return { app, get, current, atHead, read };
}

export type ReadRoutes = ReturnType<typeof readRoutes>;

/** A group of read routes as one Fastify plugin (registered under /v1 in app.ts). */
export function readRouteGroup(
  declare: (routes: ReadRoutes, ledger: Ledger) => void,
): FastifyPluginAsyncZod<ApiContext> {
  return async (app, context) => declare(readRoutes(app, context), context.ledger);
}
