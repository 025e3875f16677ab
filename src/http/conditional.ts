import type { FastifyReply, FastifyRequest } from "fastify";

/**
 * The ETag of an answer is the ledger's head position when it was read: nothing an answer
 * depends on changes without a new event. Weak, because an answer may also carry a time read
 * from the clock ("now" in a timeline) that does not change what it means.
 */
export function etagOf(position: number | string): string {
  return `W/"${position}"`;
}

/**
 * Sets the ETag and answers 304 when the client already holds it. Returns true when the reply
 * is done. `position` is the head for answers read from the events; an answer that changes
 * without a new event (a checkpoint signed at the same head) passes its own tag instead. A head read before the answer can only be older than the answer, so a stale ETag
 * costs a client one more full answer, never a missed change.
 */
export function notModified(
  request: FastifyRequest,
  reply: FastifyReply,
  position: number | string,
): boolean {
  const etag = etagOf(position);
  void reply.header("etag", etag).header("cache-control", "no-cache");
  const held = request.headers["if-none-match"];
  if (typeof held !== "string") return false;
  // Weak comparison (RFC 9110 13.1.2): W/"5" and "5" name the same answer.
  const strip = (tag: string) => tag.trim().replace(/^W\//, "");
  const matches = held.trim() === "*" || held.split(",").some((tag) => strip(tag) === strip(etag));
  if (!matches) return false;
  void reply.code(304).send();
  return true;
}
