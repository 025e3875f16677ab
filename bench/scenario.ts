import type { Database } from "../src/store/connection.ts";
import type { AppendingStore } from "../test/support/appending-store.ts";
import type { BenchSettings } from "./config.ts";

/**
 * What a scenario states about one metric. `ratioAtLeast` compares value/baseline; `above` and
 * `below` compare the value itself.
 */
export type Target = { ratioAtLeast: number } | { above: number } | { below: number };

export type Measurement = {
  metric: string;
  unit: string;
  value: number;
  /** The same work done the plain way, measured in the same run; absent when there is none. */
  baseline?: number;
  /** All must hold for the row to count as met. */
  targets?: Target[];
  /** Anything worth keeping in the JSON document (latencies, counts, durations). */
  details?: Record<string, unknown>;
};

export type ScenarioContext = {
  settings: BenchSettings;
  /** The server's URL, for scenarios that measure in a child process. */
  databaseUrl: string;
  /** The run's own schema, migrated, dropped at the end; scenarios share it, in registry order. */
  schema: string;
  /** A pool of `settings.clients + 2` connections, with the ledger's type parsers. */
  db: Database;
  store: AppendingStore;
  /** Aborted on SIGINT/SIGTERM: long loops check it and stop. */
  signal: AbortSignal;
  /** One line of progress on stderr (stdout holds the results). */
  progress(message: string): void;
};

export type Scenario = {
  name: string;
  summary: string;
  run(context: ScenarioContext): Promise<Measurement[]>;
};
