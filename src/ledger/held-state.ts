import type { CatalogRow } from "../../projections/catalog.ts";
import type { Head, StoredEvent } from "../store/index.ts";
import type { Loaded } from "./state-loader.ts";
import type { Needs, VersionKey } from "./state-needs.ts";

/**
 * What this process last read of the projections for commands naming one set of plugins, and the
 * head at which it is true: facts about that head, never about "now". A command whose needs it
 * covers sends no state load: under the head lock it compares the head it was granted with this
 * one (position and hash; any append since, by this process or another, moves them) and decides on
 * these facts only when they are equal, else it reads as always. A command that does read adds
 * what it read, and one that commits keeps them for the new head only when its events' effect on
 * them is known exactly (`carriedForward`).
 */
export type HeldState = {
  /** The named plugins, sorted and joined (`namedKey`). */
  named: string;
  position: number;
  hash: Buffer;
  /** The parts of a load that every command naming these plugins reads alike. */
  loaded: Pick<Loaded, "host" | "actives" | "running" | "tests">;
  /** Releases by precedence key (`keyOf`): all the rows a load found for that key. */
  keyed: ReadonlyMap<string, readonly CatalogRow[]>;
  streams: ReadonlyMap<string, number>;
};

/**
 * One ledger's held state, the last one read or carried forward. Concurrent commands of one
 * process may keep theirs in any order: each is true at its own head, and an older one only
 * costs a read.
 */
export function heldStates() {
  let kept: HeldState | undefined;
  return {
    for(named: string): HeldState | undefined {
      return kept?.named === named ? kept : undefined;
    },
    keep(held: HeldState): void {
      kept = held;
    },
  };
}

export type HeldStates = ReturnType<typeof heldStates>;

/** A load's answer frozen to its leaves: a command that changed what it was handed would fail. */
export function frozen<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) frozen(inner);
    Object.freeze(value);
  }
  return value;
}

export function namedKey(named: ReadonlySet<string>): string {
  return [...named].sort().join(",");
}

export const keyOf = (k: VersionKey): string =>
  JSON.stringify([k.pluginId, k.major, k.minor, k.patch, k.prerelease]);

export const isAt = (held: HeldState, head: Head): boolean =>
  held.position === head.position && held.hash.equals(head.hash);

/**
 * Whether a load for these needs would answer only what is held: no whole catalog or history
 * (a rollback's), no audit chats, every stream and every version key already read.
 */
export function covers(held: HeldState, needs: Needs): boolean {
  return (
    needs.fullCatalog.length === 0 &&
    needs.previousOf === null &&
    !needs.auditChats &&
    [...needs.streams].every((s) => held.streams.has(s)) &&
    needs.keys.every((k) => held.keyed.has(keyOf(k)))
  );
}

/** The load's answer for covered needs, as the statement would give it at the held head. */
export function loadedOf(held: HeldState, needs: Needs, projections: readonly string[]): Loaded {
  return {
    ...held.loaded,
    catalog: [],
    keyed: needs.keys.flatMap((k) => held.keyed.get(keyOf(k)) ?? []),
    stops: [],
    checkpoints: Object.fromEntries(projections.map((name) => [name, held.position])),
    streams: Object.fromEntries([...needs.streams].map((s) => [s, held.streams.get(s) ?? 0])),
    audit_chats: [],
  };
}

/**
 * What is held after a load at `head`: its answer, and what was held for the same plugins at the
 * same head (both true there). Version keys are kept from a load of one key only, where every
 * row it found is that key's.
 */
export function afterLoad(
  before: HeldState | undefined,
  named: string,
  head: Head,
  needs: Needs,
  loaded: Loaded & { running: NonNullable<Loaded["running"]> },
): HeldState {
  const same = before !== undefined && before.named === named && isAt(before, head);
  const keyed = new Map(same ? before.keyed : []);
  const [only] = needs.keys;
  if (only && needs.keys.length === 1) keyed.set(keyOf(only), loaded.keyed);
  const streams = new Map(same ? before.streams : []);
  for (const [s, version] of Object.entries(loaded.streams)) streams.set(s, version);
  const { host, actives, running, tests } = loaded;
  return {
    named,
    position: head.position,
    hash: head.hash,
    loaded: { host, actives, running, tests },
    keyed,
    streams,
  };
}

/** The events whose effect on what is held is known exactly (a unit test holds the projections to it). */
export const MOVES: ReadonlySet<string> = new Set(["PluginUpgraded", "PluginRolledBack"]);

/**
 * What is held after this process's own append of `written` brought the head to `head`, when
 * the events' effect on it is known exactly: upgrades and rollbacks of named plugins change what
 * those run (to a release held here) and their streams' versions, and nothing else held. Any
 * other event drops it, to be read again. So does an append that did not follow the held head.
 */
export function carriedForward(
  held: HeldState,
  named: ReadonlySet<string>,
  written: readonly StoredEvent[],
  versions: ReadonlyMap<string, number>,
  head: Head,
): HeldState | undefined {
  if (!written[0]?.prevHash.equals(held.hash)) return undefined;
  let actives = held.loaded.actives;
  for (const event of written) {
    const { pluginId, to } = event.data as { pluginId?: unknown; to?: unknown };
    if (!MOVES.has(event.type) || typeof pluginId !== "string" || !named.has(pluginId)) return undefined;
    if (typeof to !== "string" || !held.streams.has(event.streamId)) return undefined;
    const release = releaseOf(held, pluginId, to);
    if (!release || !actives.some((a) => a.plugin_id === pluginId)) return undefined;
    actives = actives.map((a) =>
      a.plugin_id === pluginId ? { plugin_id: pluginId, version: to, release } : a,
    );
  }
  const streams = new Map(held.streams);
  for (const s of streams.keys()) streams.set(s, versions.get(s) ?? (streams.get(s) as number));
  const loaded = { ...held.loaded, actives: frozen(actives) };
  return { ...held, position: head.position, hash: head.hash, loaded, streams };
}

function releaseOf(held: HeldState, pluginId: string, version: string): CatalogRow | undefined {
  const rows = [...held.keyed.values()].flat().concat(held.loaded.actives.flatMap((a) => a.release ?? []));
  return rows.find((r) => r.plugin_id === pluginId && r.version === version);
}
