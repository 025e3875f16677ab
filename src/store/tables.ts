import { createHash } from "node:crypto";

/**
 * Schema-qualified table names. The schema comes from validated configuration (a lower-case
 * identifier), so quoting it is enough; every statement names its tables through this, never
 * through search_path, because PGlite's one backend shares session settings between connections.
 */
export type Tables = ReturnType<typeof tablesIn>;

export function tablesIn(schema: string) {
  const q = (table: string) => `"${schema}"."${table}"`;
  return {
    schema,
    events: q("events"),
    head: q("head"),
    idempotencyKeys: q("idempotency_keys"),
    checkpoints: q("projection_checkpoints"),
    subscriptions: q("subscriptions"),
    /** The NOTIFY channel on which each append announces its new head (see src/ledger/feed/wakeups.ts). */
    channel: feedChannel(schema),
    q,
  };
}

/**
 * One channel per ledger, so that the ledgers sharing a database do not wake each other. A
 * channel name is an identifier (at most 63 bytes): a long schema name is shortened by a hash.
 */
function feedChannel(schema: string): string {
  const plain = `ledger_changes_${schema}`;
  if (plain.length <= 63) return plain;
  return `ledger_changes_${createHash("sha256").update(schema).digest("hex").slice(0, 32)}`;
}

// Statements are never named (prepared per connection) either: through PGlite's socket every
// connection shares one backend, so a second connection preparing the same name would fail.
