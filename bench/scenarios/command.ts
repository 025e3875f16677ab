import { randomUUID } from "node:crypto";
import type { ReleaseInput } from "../../src/domain/index.ts";
import type { ExecuteContext, ExecuteResult } from "../../src/ledger/execute.ts";
import type { Ledger } from "../../src/ledger/ledger.ts";
import { compareInSlices } from "../closed-loop.ts";
import { PLUGIN_COUNT, pluginId, versionAt, versionReleased } from "../event-fixtures.ts";
import { latencyRows } from "../latency-rows.ts";
import { openBenchLedger } from "../ledger-schemas.ts";
import type { Scenario } from "../scenario.ts";
import { prepareRawInsert, storeAppend } from "./append.ts";

/** The plugin the commands upgrade, back and forth between its first two releases. */
const PLUGIN = pluginId(0);
/** The raw and store.append arms write their own stream, in the run's schema. */
const STREAM = "plugin-command";

/**
 * A command end to end, as an operator's Confirm runs it: `ledger.execute` of an upgrade
 * (context validated, head locked, state loaded from the projections, decided, the event
 * appended and projected inline, committed), one client, alternating between two released
 * versions of one running plugin, in a ledger of its own where 50 plugins run. Baseline: the
 * append scenario's raw `BEGIN; INSERT; COMMIT` of one event row (its code, in a table of its
 * own). For context, `store.append` of one event through the bare store, as the append scenario
 * measures it. The three alternate in slices, so a neighbour's load falls on all of them alike.
 */
export const command: Scenario = {
  name: "command",
  summary: "ledger.execute(upgrade) per second, 1 client, vs raw BEGIN; INSERT; COMMIT and store.append",
  async run(context) {
    const { settings, progress } = context;
    const rawInsert = await prepareRawInsert(context, "command_baseline");
    const { ledger } = await openBenchLedger(context, "command");
    progress(`command: releasing and registering ${PLUGIN_COUNT} plugins`);
    await setUp(ledger);
    progress(
      `command: ledger.execute, store.append and raw INSERT, 1 client, ${settings.seconds} s each, alternating`,
    );
    const { baseline, store, command } = await compareInSlices(
      {
        baseline: (_, n) => rawInsert(STREAM, n),
        store: (_, n) => storeAppend(context, STREAM, n),
        command: (_, n) => upgrade(ledger, n),
      },
      { clients: 1, seconds: settings.seconds, signal: context.signal },
    );
    return [
      {
        metric: "commands/s, ledger.execute(upgrade), 1 client",
        unit: "commands/s",
        value: command.perSecond,
        baseline: baseline.perSecond,
        targets: [{ ratioAtLeast: 0.4 }],
        details: { command, baseline, store },
      },
      {
        metric: "commands/s vs store.append of one event",
        unit: "commands/s",
        value: command.perSecond,
        baseline: store.perSecond,
      },
      ...latencyRows((q) => `command latency ${q}, 1 client`, command.latencyMs, {
        baseline: baseline.latencyMs,
      }),
    ];
  },
};

const SETUP: ExecuteContext = { actor: { kind: "system", id: "bench" }, reason: "bench set-up" };

/** The host declared, two releases of each plugin imported, the first of each registered. */
async function setUp(ledger: Ledger): Promise<void> {
  const must = async (result: Promise<ExecuteResult>) => {
    const done = await result;
    if (!done.ok) throw new Error(`set-up refused: ${JSON.stringify(done.violations)}`);
  };
  await must(ledger.execute({ kind: "hostSet", apiVersion: "2.3.0", dbSchemaVersion: "5.2.0" }, SETUP));
  const plugins = Array.from({ length: PLUGIN_COUNT }, (_, p) => p);
  const releases = plugins.flatMap((p) =>
    [0, 1].map((n) => versionReleased(pluginId(p), pluginId((p + 1) % PLUGIN_COUNT), n).data as ReleaseInput),
  );
  await must(ledger.execute({ kind: "import", releases }, SETUP));
  for (const p of plugins) {
    await must(ledger.execute({ kind: "register", pluginId: pluginId(p), version: versionAt(0) }, SETUP));
  }
}

/** The `n`th command: to the second release, then back to the first, and so on. */
async function upgrade(ledger: Ledger, n: number): Promise<void> {
  const result = await ledger.execute(
    { kind: "upgrade", pluginId: PLUGIN, version: versionAt((n + 1) % 2) },
    {
      actor: { kind: "telegram", id: "482913375", name: "Maria Kovalenko (ops)" },
      reason: "roll out the order-throttling fix to every venue before the London open",
      causationId: `telegram-update-${n}`,
      correlationId: randomUUID(),
    },
  );
  if (!result.ok) throw new Error(`upgrade refused: ${JSON.stringify(result.violations)}`);
}
