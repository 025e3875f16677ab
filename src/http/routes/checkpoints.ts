import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import type { SignedCheckpoint } from "../../ledger/index.ts";
import { notModified } from "../conditional.ts";
import { ApiError } from "../errors.ts";
import { readRouteGroup } from "../read-route.ts";
import { position } from "../schemas.ts";

const formatQuery = z.strictObject({
  format: z
    .enum(["note", "json"])
    .optional()
    .describe("`note` (the signed note as text/plain) or `json`; unset, the Accept header decides"),
});

/**
 * The signed checkpoints (README "Auditors"): the latest, and the one of a given tree size. The
 * answer is the C2SP signed note itself as `text/plain`, byte for byte as it was signed, unless
 * the client asks for JSON: `?format=json`, or, with no `format`, an `Accept` header that names
 * `application/json`. `?format=note` always gives the note.
 */
export const checkpointRoutes = readRouteGroup(({ get }, ledger) => {
  get(
    "/checkpoint",
    {
      summary:
        "the latest signed checkpoint: the C2SP signed note (text/plain), or JSON {size, rootHash, note, origin, keyName, keyId, signedAt} with ?format=json or Accept: application/json; 404 when none is signed",
      querystring: formatQuery,
    },
    () => ledger.latestCheckpoint(),
    (latest, request, reply) => {
      if (latest === null) throw new ApiError(404, "NOT_FOUND", "no checkpoint is signed yet");
      return answer(request, reply, latest, request.query.format);
    },
  );

  get(
    "/checkpoints/:size",
    {
      summary:
        "the signed checkpoint of a tree size, as /v1/checkpoint answers it; 404 when none of that size is stored",
      params: z.strictObject({ size: position.describe("a tree size (a position in the ledger)") }),
      querystring: formatQuery,
    },
    (request) => ledger.checkpointAt(request.params.size),
    (stored, request, reply) => {
      const { size } = request.params;
      if (stored === null) throw new ApiError(404, "NOT_FOUND", `no checkpoint of size ${size} is stored`);
      return answer(request, reply, stored, request.query.format);
    },
  );
});

function answer(
  request: FastifyRequest,
  reply: FastifyReply,
  checkpoint: SignedCheckpoint,
  format: "note" | "json" | undefined,
) {
  const json = format === undefined ? acceptsJson(request.headers.accept) : format === "json";
  void reply.header("vary", "accept");
  // Never two checkpoints for one size: the size and the representation name the answer. (Not
  // the head: a checkpoint may be signed at a head that has not moved.)
  if (notModified(request, reply, `checkpoint-${checkpoint.size}-${json ? "json" : "note"}`)) return reply;
  if (json) return checkpoint;
  return reply.type("text/plain; charset=utf-8").send(checkpoint.note);
}

/** Whether an Accept header names application/json (with any parameters, a q above 0). */
function acceptsJson(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  return accept.split(",").some((range) => {
    const [type, ...parameters] = range.split(";").map((part) => part.trim().toLowerCase());
    if (type !== "application/json") return false;
    const q = parameters.find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
