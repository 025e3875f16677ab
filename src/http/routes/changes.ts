import type { ServerResponse } from "node:http";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { ApiContext } from "../api-context.ts";
import type { ChangeConnection } from "../change-hub.ts";
import { changesHeaders, position } from "../schemas.ts";

/** Unsent bytes a client may have queued before it is dropped as too slow. */
const MAX_QUEUED_BYTES = 1 << 20;
/** How long a catching-up client may take to take in one batch. */
const DRAIN_TIMEOUT_MS = 30_000;

/**
 * `GET /v1/changes`: the ledger's events as Server-Sent Events, `id:` the position. A client
 * resumes after the `Last-Event-ID` its EventSource sends back (or `?after=`); with neither it
 * hears what happens from now on. Comment lines keep idle proxies from closing the stream.
 */
export const changeRoutes: FastifyPluginAsyncZod<ApiContext> = async (app, { hub }) => {
  app.get(
    "/changes",
    {
      schema: {
        summary: "Server-Sent Events: every event after Last-Event-ID (or ?after=, or from now), then live",
        querystring: z.strictObject({ after: position.optional() }),
        headers: changesHeaders,
      },
    },
    async (request, reply) => {
      const after = request.headers["last-event-id"] ?? request.query.after;
      reply.hijack();
      const response = reply.raw;
      response.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        connection: "keep-alive",
        "x-accel-buffering": "no",
      });
      // An EventSource waits this long before it reconnects.
      response.write("retry: 1000\n\n");
      const connection = connectionOf(response);
      let leave: (() => void) | undefined;
      response.on("close", () => leave?.());
      // A socket that breaks mid-write closes the stream; it must not reach the process.
      response.on("error", (error) => request.log.debug({ err: error }, "change stream socket error"));
      try {
        leave = await hub.join(connection, after);
        if (response.destroyed) leave();
      } catch (error) {
        request.log.warn({ err: error }, "a change stream could not start");
        response.end(": the ledger is not reachable; reconnect later\n\n");
      }
    },
  );
};

function connectionOf(response: ServerResponse): ChangeConnection {
  return {
    send(frame) {
      if (response.destroyed || response.writableEnded) return false;
      response.write(frame);
      return response.writableLength <= MAX_QUEUED_BYTES;
    },
    drained() {
      if (response.destroyed || response.writableEnded) return Promise.resolve(false);
      if (!response.writableNeedDrain) return Promise.resolve(true);
      return new Promise((resolve) => {
        const done = (ok: boolean) => {
          clearTimeout(timer);
          response.off("drain", onDrain);
          response.off("close", onClose);
          resolve(ok);
        };
        const onDrain = () => done(true);
        const onClose = () => done(false);
        const timer = setTimeout(() => done(false), DRAIN_TIMEOUT_MS);
        response.once("drain", onDrain);
        response.once("close", onClose);
      });
    },
    end() {
      if (!response.writableEnded) response.end();
    },
  };
}
