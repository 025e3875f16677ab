import { formatPercent } from "../../domain/index.ts";
import type { ExecuteResult } from "../../ledger-execute.ts";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";

/**
 * Prints a change's answer in the shape of DESIGN.md's CLI contract and turns a rejection into
 * its exit code: 2 when every violation is INVALID_INPUT, 4 for a conflict, 3 otherwise.
 */
export function reportChange(ctx: CliContext, result: ExecuteResult): void {
  if (!result.ok) {
    ctx.out.result(
      { ok: false, dryRun: result.dryRun === true || undefined, violations: result.violations },
      () => result.violations.map((v) => `rejected: ${v.code}: ${v.message}`).join("\n"),
    );
    const codes = new Set(result.violations.map((v) => v.code));
    const exit =
      codes.size === 1 && codes.has("INVALID_INPUT")
        ? ExitCode.invalid
        : codes.has("CONFLICT")
          ? ExitCode.conflict
          : ExitCode.rejected;
    // The violations are the answer (stdout); stderr gets the one-line summary.
    throw new CliError(`rejected (${[...codes].join(", ")})`, exit);
  }
  if (result.dryRun) {
    ctx.out.result({ ok: true, dryRun: true, events: result.events, overrides: result.overrides }, () =>
      [
        "dry run: nothing was written; the plan is",
        ...result.events.map((e) => `  ${e.type} ${describe(e.data)}`),
        ...overridesLine(result.overrides),
      ].join("\n"),
    );
    return;
  }
  ctx.out.result(
    { ok: true, replayed: result.replayed, events: result.events, overrides: result.overrides },
    () =>
      [
        ...(result.replayed ? ["(already done under this idempotency key; nothing new was written)"] : []),
        ...result.events.map((e) => `#${e.position} ${e.type} ${describe(e.data)}`),
        ...overridesLine(result.overrides),
      ].join("\n"),
  );
}

function overridesLine(overrides: string[]): string[] {
  return overrides.length ? [`forced past: ${overrides.join(", ")}`] : [];
}

/** The few fields a person reads first, in a fixed order. */
export function describe(data: unknown): string {
  const d = data as Record<string, unknown>;
  const parts: string[] = [];
  if (d.pluginId) parts.push(String(d.pluginId));
  if (d.from && d.to) parts.push(`${d.from} -> ${d.to}`);
  else if (d.version) parts.push(String(d.version));
  if (d.control && d.candidate) parts.push(`${d.control} vs ${d.candidate}`);
  if (typeof d.candidateWeightBp === "number") parts.push(`@ ${formatPercent(d.candidateWeightBp)}`);
  if (typeof d.fromBp === "number" && typeof d.toBp === "number") {
    parts.push(`${formatPercent(d.fromBp)} -> ${formatPercent(d.toBp)}`);
  }
  if (typeof d.testId === "string") parts.push(`(test ${d.testId})`);
  if (d.apiVersion) parts.push(`api ${d.apiVersion}, db schema ${d.dbSchemaVersion}`);
  if (d.direction === "down") parts.push("(downgrade)");
  if (d.crossesMajor) parts.push("(crosses a MAJOR)");
  if (typeof d.chatId === "number") parts.push(`chat ${d.chatId} (${String(d.source)})`);
  return parts.join(" ");
}
