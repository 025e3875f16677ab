import type { ReleaseInput } from "../src/domain/index.ts";
import { buildApi, type LedgerApi } from "../src/http/app.ts";
import type { ExecuteContext, ExecuteResult } from "../src/ledger/execute.ts";
import type { Ledger } from "../src/ledger/ledger.ts";
import { createLogger } from "../src/log.ts";
import { pluginId, versionAt, versionReleased } from "./event-fixtures.ts";

/** The bearer token of the bench's APIs. */
export const BENCH_TOKEN = "bench-token-0123456789abcdef0123456789";
/** Plugins running in the HTTP scenarios' ledgers. */
export const HTTP_PLUGINS = 10;

const SETUP: ExecuteContext = { actor: { kind: "system", id: "bench" }, reason: "bench set-up" };

async function must(result: Promise<ExecuteResult>): Promise<void> {
  const done = await result;
  if (!done.ok) throw new Error(`set-up refused: ${JSON.stringify(done.violations)}`);
}

/** The host declared, three releases of each plugin, the first of each running, the first plugin in an A/B test. */
export async function runningPlugins(ledger: Ledger): Promise<void> {
  await must(ledger.execute({ kind: "hostSet", apiVersion: "2.3.0", dbSchemaVersion: "5.2.0" }, SETUP));
  const plugins = Array.from({ length: HTTP_PLUGINS }, (_, p) => p);
  const releases = plugins.flatMap((p) =>
    [0, 1, 2].map(
      (n) => versionReleased(pluginId(p), pluginId((p + 1) % HTTP_PLUGINS), n).data as ReleaseInput,
    ),
  );
  await must(ledger.execute({ kind: "import", releases }, SETUP));
  for (const p of plugins) {
    await must(ledger.execute({ kind: "register", pluginId: pluginId(p), version: versionAt(0) }, SETUP));
  }
  await must(
    ledger.execute(
      { kind: "abTestStart", pluginId: pluginId(0), candidate: versionAt(2), candidateWeightBp: 1000 },
      SETUP,
    ),
  );
}

/** The `n`th change: a plugin not under test upgraded to its second release and back; its position. */
export async function change(ledger: Ledger, n: number): Promise<number> {
  const done = await ledger.execute(
    { kind: "upgrade", pluginId: pluginId(1), version: versionAt((n + 1) % 2) },
    SETUP,
  );
  if (!done.ok || done.dryRun) throw new Error(`upgrade refused: ${JSON.stringify(done)}`);
  return (done.events.at(-1) as { position: number }).position;
}

/** The API on a loopback port, in this process. */
export async function listenApi(ledger: Ledger): Promise<LedgerApi & { url: string }> {
  const api = await buildApi({ ledger, tokens: [BENCH_TOKEN], logger: createLogger("warn") });
  const url = await api.app.listen({ host: "127.0.0.1", port: 0 });
  return { ...api, url };
}
