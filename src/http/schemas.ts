import { z } from "zod";
import { isVersion, PLUGIN_ID_PATTERN } from "../domain/index.ts";

/**
 * The zod schemas the routes validate their parameters with; the OpenAPI document is generated
 * from the same ones. Query strings are strict: a misspelt parameter is a 400, not ignored.
 */

export const pluginId = z
  .string()
  .regex(PLUGIN_ID_PATTERN, "is not a plugin id (a lower-case letter, then 1-63 of a-z, 0-9, _)")
  .describe("a plugin id");

export const pluginParams = z.strictObject({ id: pluginId });

/** A route that takes no query parameters still refuses them: `?verbose=1` is a mistake to hear of. */
export const noQuery = z.strictObject({});

/** A released version's text: strict MAJOR.MINOR.PATCH[-pre][+build], as the ledger stores it. */
export const version = z
  .string()
  .max(256, "is too long for a version")
  .refine(isVersion, "is not a MAJOR.MINOR.PATCH version")
  .describe("a version, MAJOR.MINOR.PATCH");

/** A whole number as text, at most 15 digits (below 2^53), within [min, max]. */
export const wholeNumber = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,15}$/, "must be a whole number")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** A position in the ledger (0 is before the first event). */
export const position = wholeNumber(0, Number.MAX_SAFE_INTEGER).describe("a position in the ledger");

/** A position, or an ISO-8601 time (the last event recorded at or before it), as the CLI takes them. */
export const point = z
  .string()
  .max(64, "is too long for a position or a time")
  .transform((value, ctx) => {
    if (/^\d{1,15}$/.test(value)) return Number(value);
    if (/^\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}:?\d{2})?$/.test(value)) {
      const at = new Date(value);
      if (!Number.isNaN(at.getTime())) return at;
    }
    ctx.addIssue({ code: "custom", message: "must be a position or an ISO-8601 time" });
    return z.NEVER;
  })
  .describe("a position, or an ISO-8601 time");

/** A unit (a symbol, an account) to assign: any text a host keys its units by. */
export const unitKey = z
  .string()
  .min(1, "a unit key is non-empty text")
  .max(256, "a unit key is at most 256 characters");

/** One value or the parameter repeated (`?unit=a&unit=b`), as a list. */
export const unitKeys = z
  .union([unitKey, z.array(unitKey).max(1000, "at most 1000 units in one request")])
  .transform((value) => (Array.isArray(value) ? value : [value]));

/** One plugin or several (`?plugin=a&plugin=b`), as a list. */
export const pluginIds = z
  .union([pluginId, z.array(pluginId).min(1).max(50, "at most 50 plugins in one request")])
  .transform((value) => (Array.isArray(value) ? value : [value]));

/** The `Last-Event-ID` an EventSource sends back when it reconnects. */
export const changesHeaders = z.object({
  "last-event-id": position.optional(),
});
