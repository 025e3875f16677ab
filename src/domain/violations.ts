import { type LedgerEvent, streamIdOf } from "./events.ts";

/** The codes `decide` can return (DESIGN.md "Rules"). */
export const RULE_CODES = [
  "INVALID_INPUT",
  "NOT_FOUND",
  "ALREADY",
  "MAJOR_MISMATCH",
  "DEPRECATED",
  "API_UNSATISFIED",
  "DB_SCHEMA_UNSATISFIED",
  "MATRIX_CONFLICT",
  "AB_TEST_RUNNING",
] as const;

export type RuleCode = (typeof RULE_CODES)[number];

/** CONFLICT (a concurrent change) is raised by the ledger, never by `decide`. */
export type ViolationCode = RuleCode | "CONFLICT";

export interface Violation {
  code: ViolationCode;
  message: string;
}

/** These describe a command that cannot mean anything, so no `force` can push it through. */
export const UNFORCEABLE_CODES: ReadonlySet<ViolationCode> = new Set([
  "INVALID_INPUT",
  "NOT_FOUND",
  "ALREADY",
]);

export type PlannedEvent = LedgerEvent & { streamId: string };

export type Decision =
  | { ok: true; events: PlannedEvent[]; overrides: ViolationCode[] }
  | { ok: false; violations: Violation[] };

/**
 * What a command would do and everything wrong with it. `events` is filled whenever the
 * violations are all forceable, so that `settle` can honour `force`.
 */
export interface Plan {
  violations: Violation[];
  events: PlannedEvent[];
}

export function violation(code: RuleCode, message: string): Violation {
  return { code, message };
}

export function settle(plan: Plan, force: boolean): Decision {
  const { violations, events } = plan;
  if (violations.length === 0) return { ok: true, events, overrides: [] };
  const forceable = violations.every((v) => !UNFORCEABLE_CODES.has(v.code));
  if (force && forceable) return { ok: true, events, overrides: [...new Set(violations.map((v) => v.code))] };
  return { ok: false, violations };
}

// How the rules build a plan. The rest parameters take a handful of values each; a list that may be
// long (an import's events and violations) goes in as an array: spread into a call, 60,000 entries
// overflow the stack.
export function planned(...events: LedgerEvent[]): PlannedEvent[] {
  return plannedAll(events);
}

export function plannedAll(events: readonly LedgerEvent[]): PlannedEvent[] {
  return events.map((event) => ({ ...event, streamId: streamIdOf(event) }));
}

export const accepted = (...events: LedgerEvent[]): Plan => ({ violations: [], events: plannedAll(events) });

export const rejected = (violations: Violation[]): Plan => ({ violations, events: [] });

export function pushAll<T>(into: T[], items: readonly T[]): void {
  for (const item of items) into.push(item);
}

const QUOTE_MAX_LENGTH = 64;

/** User-supplied text inside a message: quoted, escaped and cut short, so a message stays one line. */
export function quote(value: unknown): string {
  if (typeof value !== "string") return value === null ? "null" : `(${typeof value})`;
  const cut = value.length > QUOTE_MAX_LENGTH ? `${value.slice(0, QUOTE_MAX_LENGTH)}…` : value;
  return JSON.stringify(cut);
}
