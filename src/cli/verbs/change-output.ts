import { formatPercent, type Violation } from "../../domain/index.ts";
import type { ExecuteResult } from "../../ledger/index.ts";
import type { CliContext } from "../context.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { oneLine } from "../table.ts";

/**
 * Prints a change's answer in the shape of DESIGN.md's CLI contract and turns a rejection into
 * its exit code: 2 when every violation is INVALID_INPUT, 4 for a conflict, 3 otherwise.
 */
export function reportChange(ctx: CliContext, result: ExecuteResult): void {
  if (!result.ok) result = { ...result, violations: result.violations.map(inCliWords) };
  if (!result.ok) {
    // The violations are the error, so stderr gets them, one line each, for a pipeline that
    // keeps only stderr; with --json stdout still holds the whole document.
    if (ctx.out.json) {
      ctx.out.result(
        { ok: false, dryRun: result.dryRun === true || undefined, violations: result.violations },
        () => "",
      );
    }
    const lines = firstOf(
      result.violations.map((v) => `plugin-ledger: rejected: ${v.code}: ${oneLine(v.message)}`),
      (more) => `plugin-ledger: … and ${more} more violations (--json lists them all)`,
    );
    ctx.out.stderr.write(`${lines.join("\n")}\n`);
    const codes = new Set(result.violations.map((v) => v.code));
    const exit =
      codes.size === 1 && codes.has("INVALID_INPUT")
        ? ExitCode.invalid
        : codes.has("CONFLICT")
          ? ExitCode.conflict
          : ExitCode.rejected;
    throw new CliError("", exit);
  }
  if (result.dryRun) {
    ctx.out.result({ ok: true, dryRun: true, events: result.events, overrides: result.overrides }, () =>
      [
        "dry run: nothing was written; the plan is",
        ...firstOf(
          result.events.map((e) => `  ${e.type} ${describe(e.data)}`),
          (more) => `  … and ${more} more events (--json lists them all)`,
        ),
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
        ...firstOf(
          result.events.map((e) => `#${e.position} ${e.type} ${describe(e.data)}`),
          (more) =>
            `… and ${more} more events, to #${result.events.at(-1)?.position} (--json lists them all)`,
        ),
        ...overridesLine(result.overrides),
      ].join("\n"),
  );
}

/**
 * The rules speak of the library's options (allowMajor, basis points); a CLI user typed flags
 * and percentages, so the CLI says it in those words. The domain stays free of flag names.
 */
const CLI_WORDS: Array<[RegExp, (...groups: string[]) => string]> = [
  [/\ballow it with allowMajor\b/g, () => "allow it with --allow-major"],
  [
    /\bmust be a whole number of basis points from 1 to 9999 \(0\.01% to 99\.99%\), not (-?\d+)\./g,
    (_, bp) => `must be between 0.01 and 99.99 percent, not ${Number(bp) / 100}.`,
  ],
  [/^A forced command needs a reason\b/, () => "--force needs --reason"],
];

function inCliWords(violation: Violation): Violation {
  let message = violation.message;
  for (const [pattern, say] of CLI_WORDS)
    message = message.replace(pattern, (...m) => say(...(m as string[])));
  return { ...violation, message };
}

/** A person reads the first lines of a long answer (an import of 60,000 releases); --json has it all. */
const SHOWN = 20;

function firstOf(lines: string[], tail: (more: string) => string): string[] {
  if (lines.length <= SHOWN + 1) return lines;
  return [...lines.slice(0, SHOWN), tail((lines.length - SHOWN).toLocaleString("en-US"))];
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
