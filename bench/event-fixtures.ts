import { randomUUID } from "node:crypto";
import type { Metadata, NewEvent } from "../src/store/event-store.ts";

/**
 * Realistic event rows for the benchmarks: the shapes of src/domain/events.ts (a PluginUpgraded,
 * about 90 bytes of data) with the metadata an operator's Telegram command carries (about 200 bytes).
 */
export const PLUGIN_COUNT = 50;

export function pluginId(index: number): string {
  return `p${String(index).padStart(2, "0")}`;
}

/** The version a plugin reaches after its `n`th upgrade: 1.0.0, 1.0.1, ... 1.1.0, ... 2.0.0. */
function versionAt(n: number): string {
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
