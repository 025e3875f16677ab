import { z } from "zod";
import { isPluginId, isVersion, POINT_FORMS, parsePercent, parsePoint, quote } from "../domain/index.ts";

/** The options a change command takes, written anywhere among its words. */
export const FLAGS = ["force", "allow-major", "to-position"] as const;
export type Flag = (typeof FLAGS)[number];

export type Words = { words: string[]; flags: ReadonlySet<Flag> };

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** The words after a command, the known --flags taken out; an unknown or unwanted flag is a problem. */
export function splitWords(payload: string, allowed: readonly Flag[] = []): Parsed<Words> {
  const words: string[] = [];
  const flags = new Set<Flag>();
  for (const word of payload.trim().split(/\s+/).filter(Boolean)) {
    const flag = /^--([a-z][a-z-]*)$/.exec(word)?.[1];
    if (flag === undefined) words.push(word);
    else if ((allowed as readonly string[]).includes(flag)) flags.add(flag as Flag);
    else return { ok: false, problem: `--${flag} is not an option of this command` };
  }
  return { ok: true, value: { words, flags } };
}

/** Whatever follows the positional words: the reason, as typed (spacing collapsed). */
export function rest(words: string[], from: number): string | undefined {
  const text = words.slice(from).join(" ").trim();
  return text === "" ? undefined : text;
}

const missing = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined || issue.input === null ? `${what} is missing` : `${what} is not valid`;

export const pluginIdArg = z
  .string({ error: missing("the plugin") })
  .refine(isPluginId, "the plugin must be an id such as combined_v3 (lower case, digits, _)");

export const versionArg = (what = "the version") =>
  z.string({ error: missing(what) }).refine(isVersion, `${what} must be a version such as 1.2.3`);

/** A percentage in basis points, exactly ("12.5" -> 1250); its range is for the rules to judge. */
export const percentArg = z.string({ error: missing("the percentage") }).transform((value, ctx) => {
  const weightBp = parsePercent(value);
  if (weightBp !== null) return weightBp;
  ctx.addIssue({
    code: "custom",
    message: `the percentage must be a number such as 10 or 12.5 (at most two decimals), not "${value}"`,
  });
  return z.NEVER;
});

/** A ledger position: a whole number from 1 (as `/rollback <plugin> position 42` names it). */
export const positionArg = z
  .string({ error: missing("the position") })
  .refine((value) => /^\d+$/.test(value) && Number.isSafeInteger(Number(value)) && Number(value) >= 1, {
    message: "the position must be a whole number from 1",
  })
  .transform(Number);

/** A command whose one argument is the plugin (`/versions <plugin>`, `/abtest <plugin> status`). */
export const pluginArgument = {
  schema: z.object({ plugin: pluginIdArg }),
  fromWords: (w: Words) => ({ plugin: w.words[0] }),
};

export const reasonArg = z.string().max(500, "the reason is longer than 500 characters").optional();

export const limitArg = (max: number) =>
  z.coerce
    .number({ error: "the limit must be a number" })
    .int("the limit must be a whole number")
    .min(1, "the limit must be at least 1")
    .max(max, `the limit is at most ${max}`);

/** `/asof`: a position or an ISO-8601 time, read as every CLI verb reads one. */
export const pointArg = z.string({ error: missing("the time or position") }).transform((value, ctx) => {
  const point = parsePoint(value);
  if (point !== null) return point;
  ctx.addIssue({
    code: "custom",
    message: `${quote(value)} is neither a position nor an ISO-8601 time: expected ${POINT_FORMS}`,
  });
  return z.NEVER;
});

/** The first problem, as one sentence; the usage line is added by whoever answers. */
export function parseWith<S extends z.ZodType>(schema: S, raw: unknown): Parsed<z.output<S>> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, problem: parsed.error.issues[0]?.message ?? "the arguments are not valid" };
}
