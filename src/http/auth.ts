import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { ApiError } from "./errors.ts";

/** Routes anyone may call: a load balancer's probes know no token. */
const OPEN = new Set(["/healthz", "/readyz"]);

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * Bearer tokens on every route but the probes (unknown routes included, so that a caller without
 * a token learns nothing of the API). Tokens are compared as SHA-256 digests, equal in length
 * whatever was sent, with timingSafeEqual against every configured token: the time taken says
 * neither which token nor how much of one matched.
 */
export function installBearerAuth(app: FastifyInstance, tokens: readonly string[]): void {
  const accepted = tokens.map(digest);
  app.addHook("onRequest", async (request) => {
    if (OPEN.has(request.url.split("?")[0] ?? "")) return;
    const header = request.headers.authorization;
    const presented =
      typeof header === "string" ? /^Bearer ([\x21-\x7e]+)$/i.exec(header.trim())?.[1] : undefined;
    if (presented === undefined) {
      throw new ApiError(401, "UNAUTHORIZED", "an Authorization: Bearer <token> header is required");
    }
    const given = digest(presented);
    let ok = false;
    for (const token of accepted) ok = timingSafeEqual(given, token) || ok;
    if (!ok) throw new ApiError(401, "UNAUTHORIZED", "the bearer token is not accepted");
  });
}
