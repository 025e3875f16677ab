import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { invokeCli } from "../../src/cli/program.ts";
import { createLedger, type Ledger } from "../../src/ledger/ledger.ts";
import { eventCount as countEvents, runCli } from "../support/cli.ts";
import { openServerLedger, type TestDatabase, testLogger } from "../support/databases.ts";
import { FUZZ_SEED, withoutUnhandledRejections } from "../support/fuzz.ts";
import { seedLedger } from "../support/seed.ts";

/**
 * The CLI against hostile argv: random verbs, flags and values (huge numbers, unicode, empty
 * strings, NULs, "--", long strings, negative numbers, dates, impossible dates). Whatever comes
 * in, the answer is an exit code of the contract with one-line errors, and a rejected input
 * writes nothing. The bulk runs the commander program in-process; a few dozen run as processes.
 */
/** Text the database cannot hold, which must come back as INVALID_INPUT, never as its error. */
const unstorable = fc.oneof(
  fc.constantFrom("\u0000", "a\u0000b", "\ud800", "x\udfff", "\ud83d"),
  fc.tuple(fc.string({ maxLength: 8 }), fc.constantFrom("\u0000", "\ud800", "\udc00")).map(([a, b]) => a + b),
);

const hostileValue = fc.oneof(
  { weight: 2, arbitrary: unstorable },
  fc.constantFrom(
    "",
    "--",
    "-",
    "-1",
    "0",
    "1",
    "99999999999999999999999",
    "9007199254740993",
    "1e309",
    "NaN",
    "Infinity",
    "2026-02-30",
    "2026-13-01",
    "2026-11-30T14:05Z",
    "1999-01-01",
    "alpha",
    "beta",
    "nobody_here",
    "Alpha",
    "x".repeat(5000),
    "a".repeat(70),
    "\u0000",
    "a\u0000b",
    "ünïcödé",
    "😀",
    "\u202e",
    "\ud800",
    "' OR 1=1 --",
    "$(rm -rf /)",
    "line\nbreak",
    "1.0.0",
    "1.1.0",
    "2.0.0",
    "9.9.9",
    "^1.0.0",
    "150",
    "12.555",
    "0.01",
    "99.99",
    "--json",
    "--force",
    "--dry-run",
  ),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.integer().map(String),
  fc.bigInt().map(String),
  fc.double().map(String),
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
);

/**
 * Positionals are mostly plausible (a known plugin, a fresh version), so that a hostile value
 * in a flag (a reason, release notes, an actor) reaches the rules and the database.
 */
const plausibleValue = fc.oneof(
  fc.constantFrom(
    "alpha",
    "alpha",
    "alpha",
    "beta",
    "gamma_new",
    "10",
    "50",
    "5",
    "2026-11-30",
    "2026-01-01T00:00Z",
  ),
  fc.tuple(fc.nat(3), fc.nat(40), fc.nat(40)).map(([a, b, c]) => `${a}.${b}.${c}`),
);
const positionalValue = fc.oneof(
  { weight: 3, arbitrary: plausibleValue },
  { weight: 2, arbitrary: hostileValue },
);

/** verb words, how many positionals it takes at most, and the options it knows (true: takes a value). */
const VERBS: Array<[string[], number, Record<string, boolean>]> = [
  [
    ["release"],
    2,
    {
      "--commit": true,
      "--author": true,
      "--build-date": true,
      "--requires-api": true,
      "--requires-db": true,
      "--compat": true,
      "--features": true,
      "--notes": true,
    },
  ],
  [["import"], 1, {}],
  [["deprecate"], 2, {}],
  [["register"], 2, {}],
  [["upgrade"], 2, { "--allow-major": false }],
  [["rollback"], 2, { "--allow-major": false }],
  [["deactivate"], 1, {}],
  [["host"], 0, {}],
  [["host", "set"], 0, { "--api": true, "--db-schema": true }],
  [["status"], 0, {}],
  [["versions"], 1, {}],
  [["history"], 1, { "--limit": true }],
  [["matrix"], 0, {}],
  [["audit"], 0, { "--limit": true, "--plugin": true }],
  [["abtest", "start"], 2, { "--weight": true, "--allow-major": false }],
  [["abtest", "weight"], 2, {}],
  [["abtest", "promote"], 1, {}],
  [["abtest", "abort"], 1, {}],
  [["abtest", "assign"], 3, { "--at": true }],
  [["abtest"], 1, {}],
  [["timeline"], 2, { "--from": true, "--to": true, "--format": true, "--width": true }],
  [["asof"], 1, {}],
  [["replay"], 0, { "--to": true }],
  [["events"], 0, { "--from": true }],
  [["verify"], 0, {}],
  [["migrate"], 0, {}],
  [["diff"], 3, {}],
  [["checkpoint"], 0, {}],
  [["prove"], 1, { "--size": true }],
  [["verify-proof"], 1, { "--key": true, "--origin": true }],
  [["bot"], 0, {}],
  [[], 1, {}],
];
const TEXT_FLAGS = new Set([
  "--commit",
  "--author",
  "--notes",
  "--features",
  "--compat",
  "--idempotency-key",
]);
const CHANGE_FLAGS = { "--dry-run": false, "--force": false, "--idempotency-key": true };
const GLOBAL_FLAGS = { "--json": false, "--actor": true, "--reason": true };
const MUTATING = new Set([
  "release",
  "import",
  "deprecate",
  "register",
  "upgrade",
  "rollback",
  "deactivate",
  "set",
  "start",
  "weight",
  "promote",
  "abort",
]);

const argvArb = fc
  .record({
    verb: fc.constantFrom(...VERBS),
    positionals: fc.array(positionalValue, { minLength: 4, maxLength: 4 }),
    // Mostly the verb's own arity; sometimes one short or one too many.
    extra: fc.constantFrom(0, 0, 0, 0, -1, 1),
    flagPicks: fc.array(fc.tuple(fc.nat(), positionalValue, hostileValue, fc.boolean()), { maxLength: 4 }),
    globals: fc.array(fc.tuple(fc.nat(), hostileValue), { maxLength: 2 }),
    unknownFlag: fc.oneof(
      { weight: 12, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom("--nope", "-x", "--json=1", "--weight") },
    ),
    required: fc.boolean(),
  })
  .map(({ verb: [words, arity, options], positionals, extra, flagPicks, globals, unknownFlag, required }) => {
    const known = { ...options, ...(MUTATING.has(words.at(-1) ?? "") ? CHANGE_FLAGS : {}) };
    const names = Object.keys(known) as Array<keyof typeof known>;
    const argv = [...words, ...positionals.slice(0, Math.max(0, arity + extra))];
    for (const [pick, plausible, hostile, withValue] of flagPicks) {
      const name = names[pick % Math.max(1, names.length)];
      if (name === undefined) continue;
      argv.push(name);
      // Free text is where hostile values go; a number or a point is mostly plausible.
      if (known[name] || withValue) argv.push(TEXT_FLAGS.has(name) ? hostile : plausible);
    }
    const globalNames = Object.keys(GLOBAL_FLAGS) as Array<keyof typeof GLOBAL_FLAGS>;
    for (const [pick, value] of globals) {
      const name = globalNames[pick % globalNames.length] as keyof typeof GLOBAL_FLAGS;
      argv.push(name, ...(GLOBAL_FLAGS[name] ? [value] : []));
    }
    if (unknownFlag) argv.push(unknownFlag);
    // The options a verb cannot go without, most of the time, so that the verb itself runs.
    if (required && words.join(" ") === "abtest start") argv.push("--weight", "10");
    if (required && words.join(" ") === "host set") argv.push("--api", "2.5.0", "--db-schema", "7.1.0");
    return argv;
  });

type Run = { code: number; stdout: string; stderr: string };

/** Collects what the CLI writes, as a pipe would receive it. */
function sink(): Writable & { text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return Object.assign(stream, { text: () => Buffer.concat(chunks).toString("utf8") });
}

describe("CLI fuzz", () => {
  let database: TestDatabase;
  let ledger: Ledger;
  let scratch: string;

  const eventCount = () => countEvents(database);

  async function inProcess(argv: string[], env: Record<string, string> = database.env): Promise<Run> {
    const stdout = sink();
    const stderr = sink();
    const code = await invokeCli(argv, { stdout, stderr, env: { LOG_LEVEL: "silent", ...env }, ledger });
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  }

  /** What every answer must be, whatever the input. */
  function expectContract(argv: string[], run: Run) {
    const context = JSON.stringify({ argv: argv.map((a) => a.slice(0, 80)), ...run });
    expect([0, 2, 3, 4], context).toContain(run.code);
    expect(run.stderr, context).not.toMatch(/\n\s+at |unexpected error|Error:/);
    const helpAsked = argv.some((a) => a === "--help" || a === "-h");
    const lines = run.stderr.split("\n").filter(Boolean);
    for (const line of lines) expect(line, context).toMatch(/^plugin-ledger: /);
    if (run.code !== 0) expect(lines.length, context).toBeGreaterThan(0);
    if (run.code === 0 && argv.includes("--json") && !helpAsked && run.stdout !== "") {
      for (const line of run.stdout.split("\n").filter(Boolean))
        expect(() => JSON.parse(line), context).not.toThrow();
    }
  }

  beforeAll(async () => {
    database = await openServerLedger();
    ledger = createLedger(database.db, { schema: database.schema, logger: testLogger });
    scratch = mkdtempSync(path.join(tmpdir(), "pl-fuzz-"));
    await seedLedger(ledger, FUZZ_SEED);
  });

  afterAll(async () => {
    rmSync(scratch, { recursive: true, force: true });
    await database?.close();
  });

  it("answers 300 random command lines in-process within the contract, writing nothing when it refuses", async () => {
    await withoutUnhandledRejections(() =>
      fc.assert(
        fc.asyncProperty(argvArb, async (argv) => {
          const before = await eventCount();
          const run = await inProcess(argv);
          expectContract(argv, run);
          if (run.code !== 0 || argv.includes("--dry-run"))
            expect(await eventCount(), JSON.stringify(argv)).toBe(before);
        }),
        { numRuns: 300 },
      ),
    );
    expect((await inProcess(["verify"])).code).toBe(0);
  });

  it("refuses every bad setting as a usage error (exit 2), in one line", async () => {
    const settings = fc.record(
      {
        DATABASE_URL: fc.oneof(
          hostileValue,
          hostileValue.map((v) => `postgres://${v}`),
        ),
        LEDGER_SCHEMA: hostileValue,
        DATABASE_POOL_SIZE: hostileValue,
        LOG_LEVEL: hostileValue,
        TELEGRAM_ADMINS: hostileValue,
        TELEGRAM_WEBHOOK_PORT: hostileValue,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(settings, async (env) => {
        const clean = Object.fromEntries(Object.entries(env).filter(([, v]) => !v.includes("\u0000")));
        const run = await inProcess(["status", "--json"], { ...database.env, ...clean });
        expectContract(["status", "--json"], run);
        expect([0, 2]).toContain(run.code);
        if (run.code === 2) expect(run.stderr).toMatch(/^plugin-ledger: invalid configuration: [^\n]+\n$/);
      }),
      { numRuns: 150 },
    );
  });

  it("answers random command lines as a process within the contract", async () => {
    // Arguments of a process cannot hold a NUL; the rest of the grammar is the same.
    const cases = fc.sample(
      argvArb.filter((argv) => argv.every((a) => !a.includes("\u0000"))),
      { numRuns: 24, seed: 8 },
    );
    for (const argv of [...cases, ["asof", "99999999999999999999999"], ["history", "Bad!"], ["nope-verb"]]) {
      const before = await eventCount();
      const run = await runCli(argv, database.env);
      expectContract(argv, { ...run, code: run.code ?? -1 });
      if (run.code !== 0 || argv.includes("--dry-run"))
        expect(await eventCount(), JSON.stringify(argv)).toBe(before);
    }
  }, 600_000); // 27 processes of about 1.5 s each, slower on a loaded machine
});
