import { createHash, randomUUID } from "node:crypto";
import type { Metadata, NewEvent } from "../src/store/event-store.ts";

/**
 * Realistic event rows for the benchmarks: the shapes of src/domain/events.ts (a PluginUpgraded,
 * about 90 bytes of data; a VersionReleased, about 400) with the metadata an operator's Telegram
 * command carries (about 200 bytes).
 */
export const PLUGIN_COUNT = 50;

export function pluginId(index: number): string {
  return `p${String(index).padStart(2, "0")}`;
}

/** The version a plugin reaches after its `n`th upgrade: 1.0.0, 1.0.1, ... 1.1.0, ... 2.0.0. */
export function versionAt(n: number): string {
  return `${1 + Math.floor(n / 1000)}.${Math.floor(n / 100) % 10}.${n % 100}`;
}

export function pluginUpgraded(plugin: string, n: number): NewEvent {
  const from = versionAt(n);
  const to = versionAt(n + 1);
  return {
    type: "PluginUpgraded",
    data: {
      pluginId: plugin,
      from,
      to,
      direction: "up",
      crossesMajor: from.split(".")[0] !== to.split(".")[0],
    },
  };
}

export function operatorMetadata(updateId: number): Metadata {
  return {
    actor: { kind: "telegram", id: "482913375", name: "Maria Kovalenko (ops)" },
    reason: "roll out the order-throttling fix to every venue before the London open",
    correlationId: randomUUID(),
    causationId: `telegram-update-${updateId}`,
  };
}

/**
 * One plugin's stream as a release pipeline and its operators would write it, one event per
 * call: release 1.0.0 and register it, then over and over release the next version and upgrade
 * to it; every fifth new version turns out bad and is rolled back at once (the next upgrade
 * starts from the version before it), and every seventh cycle deprecates a version three
 * releases old. Per 35 cycles: 43% releases, 43% upgrades, 9% rollbacks, 6% deprecations.
 * Every event is valid data for the domain's schemas, and the history follows its rules.
 */
export function pluginLife(index: number): () => NewEvent {
  const plugin = pluginId(index);
  const partner = pluginId((index + 1) % PLUGIN_COUNT);
  const pending: NewEvent[] = [];
  let running = -1;
  let cycle = 0;
  const plan = () => {
    if (cycle === 0) {
      pending.push(versionReleased(plugin, partner, 0), {
        type: "PluginRegistered",
        data: { pluginId: plugin, version: versionAt(0) },
      });
      running = 0;
    } else {
      pending.push(versionReleased(plugin, partner, cycle), upgrade(plugin, running, cycle));
      running = cycle;
      if (cycle % 5 === 0) {
        pending.push({
          type: "PluginRolledBack",
          data: { pluginId: plugin, from: versionAt(cycle), to: versionAt(cycle - 1) },
        });
        running = cycle - 1;
      }
      if (cycle % 7 === 0 && cycle >= 3) {
        pending.push({
          type: "VersionDeprecated",
          data: {
            pluginId: plugin,
            version: versionAt(cycle - 3),
            reason: "superseded: memory leak under load",
          },
        });
      }
    }
    cycle += 1;
  };
  return () => {
    if (pending.length === 0) plan();
    return pending.shift() as NewEvent;
  };
}

function upgrade(plugin: string, from: number, to: number): NewEvent {
  const [a, b] = [versionAt(from), versionAt(to)];
  return {
    type: "PluginUpgraded",
    data: {
      pluginId: plugin,
      from: a,
      to: b,
      direction: to > from ? "up" : "down",
      crossesMajor: a.split(".")[0] !== b.split(".")[0],
    },
  };
}

export function versionReleased(plugin: string, partner: string, n: number): NewEvent {
  const version = versionAt(n);
  return {
    type: "VersionReleased",
    data: {
      pluginId: plugin,
      version,
      buildDate: new Date(Date.UTC(2025, 0, 1) + n * 3_600_000).toISOString(),
      commitHash: createHash("sha1").update(`${plugin}@${version}`).digest("hex"),
      author: "release-pipeline",
      requires: { api: "^2.3.0", dbSchema: ">=5.1.0 <6.0.0" },
      compatibleWith: n % 3 === 0 ? { [partner]: ">=1.0.0" } : {},
      features: ["order-throttling", "venue-failover"],
      releaseNotes: `Throttle orders per venue; fail over within 200 ms (build ${n}).`,
    },
  };
}

/** The trading bot's host, as a deployment declares it. */
export function hostDeclared(n: number): NewEvent {
  return { type: "HostVersionsDeclared", data: { apiVersion: `2.${3 + n}.0`, dbSchemaVersion: "5.2.0" } };
}
