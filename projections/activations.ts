import { interned, type LedgerProjection } from "./ledger-projection.ts";
import { intervalsOf, transitionsOf } from "./transitions.ts";

/**
 * version_history (one interval per activation, [from_position, to_position)) and
 * active_plugins (what each plugin runs now: its open interval, kept apart for the hot read).
 *
 * A batch is one statement whatever its size, in three parts:
 * - closed: each touched plugin's interval that was open before the batch ends at the
 *   plugin's first transition of the batch;
 * - opened: the batch's own intervals, already closed when a later event of the batch ended
 *   them;
 * - the upsert (and stopped): each plugin's last transition sets what it runs.
 */
export const activations: LedgerProjection = {
  name: "activations",
  tables: ["version_history", "active_plugins"],
  async apply(client, events, tables, named) {
    const transitions = transitionsOf(events);
    if (transitions.length === 0) return;
    const { closing, opened, last } = intervalsOf(transitions);
    const open = opened.map((i) => i.transition);
    const closedBy = opened.map((i) => i.closedBy);
    const running = last.filter((t) => t.version !== null);
    const actors = interned<string>();
    const reasons = interned<string | null>();
    const actorRefs = open.map((t) => actors.ref(t.actor));
    const reasonRefs = open.map((t) => reasons.ref(t.reason));
    const history = tables.q("version_history");
    const active = tables.q("active_plugins");
    await client.query({
      ...named("activations"),
      // `opened` reads `closed` before it inserts anything, which makes the UPDATE run to the
      // end first: the unique index on open intervals must find the old ones closed. The
      // active_plugins parts touch disjoint plugins (a plugin's last transition either runs a
      // version or stops it), each plugin once, so their order does not matter.
      text: `WITH closed AS (
               UPDATE ${history} AS h
                  SET to_position = c.position, to_at = c.at, closed_by = c.action
                 FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[])
                      AS c(plugin_id, position, at, action)
                WHERE h.plugin_id = c.plugin_id AND h.to_position IS NULL
               RETURNING 1
             ), opened AS (
               INSERT INTO ${history}
                 (plugin_id, version, from_position, from_at, action, actor, reason, to_position, to_at, closed_by)
               SELECT p, v, fp, fa, a, ($9::jsonb[])[ai], ($10::text[])[ri], tp, ta, cb
                 FROM unnest($5::text[], $6::text[], $7::bigint[], $8::timestamptz[], $11::text[],
                             $12::int[], $13::int[], $14::bigint[], $15::timestamptz[], $16::text[])
                      AS r(p, v, fp, fa, a, ai, ri, tp, ta, cb)
                WHERE (SELECT count(*) FROM closed) >= 0
             ), stopped AS (
               DELETE FROM ${active} WHERE plugin_id = ANY($21::text[])
             )
             INSERT INTO ${active} (plugin_id, version, since_position, since_at)
             SELECT * FROM unnest($17::text[], $18::text[], $19::bigint[], $20::timestamptz[])
             ON CONFLICT (plugin_id) DO UPDATE
               SET version = EXCLUDED.version, since_position = EXCLUDED.since_position,
                   since_at = EXCLUDED.since_at`,
      values: [
        closing.map((t) => t.pluginId),
        closing.map((t) => t.position),
        closing.map((t) => t.at.toISOString()),
        closing.map((t) => t.action),
        open.map((t) => t.pluginId),
        open.map((t) => t.version),
        open.map((t) => t.position),
        open.map((t) => t.at.toISOString()),
        actors.values,
        reasons.values,
        open.map((t) => t.action),
        actorRefs,
        reasonRefs,
        closedBy.map((t) => t?.position ?? null),
        closedBy.map((t) => t?.at.toISOString() ?? null),
        closedBy.map((t) => t?.action ?? null),
        running.map((t) => t.pluginId),
        running.map((t) => t.version),
        running.map((t) => t.position),
        running.map((t) => t.at.toISOString()),
        last.filter((t) => t.version === null).map((t) => t.pluginId),
      ],
    });
  },
};
