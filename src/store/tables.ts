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
    q,
  };
}

// Statements are never named (prepared per connection) either: through PGlite's socket every
// connection shares one backend, so a second connection preparing the same name would fail.
