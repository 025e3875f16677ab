import { isConnectionLost } from "../../src/store/connection-errors.ts";
import { ConcurrencyError, IdempotencyConflictError } from "../../src/store/errors.ts";
import {
  type AppendResult,
  type AppendSession,
  createEventStore,
  type EventStore,
  type EventStoreOptions,
  type ExpectedVersion,
  type Idempotency,
  type Metadata,
  type NewEvent,
  type StreamAppend,
} from "../../src/store/event-store.ts";

/**
 * The store with a bare append path, for tests and the bench that write events without the
 * ledger's commands: raw streams, seeded histories, concurrent appenders. It writes through the
 * store's one append session (`transact`), as `ledger.execute` does, and groups the appends
 * that wait in this process into one transaction (group commit).
 */
export type AppendingStore = EventStore & {
  /**
   * Appends events to one stream, following DESIGN.md "Append": head lock, idempotency,
   * expected version, chained rows, inline projections, commit.
   */
  append(
    streamId: string,
    expectedVersion: ExpectedVersion,
    events: NewEvent[],
    metadata: Metadata,
    idempotencyKey?: string,
  ): Promise<AppendResult>;
  /** Several streams in one transaction (an import): all of it lands, or none. */
  appendMany(appends: StreamAppend[], metadata: Metadata, idempotencyKey?: string): Promise<AppendResult>;
};

export function appendingStore(options: EventStoreOptions): AppendingStore {
  return withAppends(createEventStore(options));
}

/** The most appends one transaction takes from those waiting (see `drain`). */
const GROUP_LIMIT = 64;

type WaitingAppend = {
  appends: StreamAppend[];
  metadata: Metadata;
  idempotency: Idempotency | undefined;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
};

export function withAppends(store: EventStore): AppendingStore {
  /** Appends waiting for the next group commit, and whether one runs (see `drain`). */
  const waiting: WaitingAppend[] = [];
  let draining = false;

  function appendMany(appends: StreamAppend[], metadata: Metadata, idempotencyKey?: string) {
    const idempotency = idempotencyKey
      ? {
          key: idempotencyKey,
          request: { appends: appends.map(requestOf), metadata: stableMetadata(metadata) },
        }
      : undefined;
    return new Promise<AppendResult>((resolve, reject) => {
      waiting.push({ appends, metadata, idempotency, resolve, reject });
      if (!draining) void drain();
    });
  }

  /**
   * Group commit: the appends that wait in this process while a transaction runs go together in
   * the next one, in the order they came, at most GROUP_LIMIT: one head lock and one commit (one
   * fsync) for all of them, instead of each queueing on the lock behind the others' commits. Each
   * keeps its own outcome: its own events, its idempotency key looked up and recorded on its own,
   * and a rejection of its own (a stream at another version, a key reused for another request),
   * which leaves the others in the transaction. A statement that fails aborts the transaction;
   * then each append of the group runs again alone, and gets its own answer. A connection lost
   * fails the whole group: whether it committed is unknown, and running it again could write
   * twice.
   */
  async function drain(): Promise<void> {
    draining = true;
    while (waiting.length > 0) {
      const group = waiting.splice(0, GROUP_LIMIT);
      const outcomes: ({ ok: AppendResult } | { rejected: unknown })[] = [];
      try {
        await store.transact(async (session) => {
          for (const [i, request] of group.entries()) {
            try {
              // The last one's write carries the COMMIT (one round trip less).
              outcomes.push({ ok: await appendIn(session, request, i === group.length - 1) });
            } catch (error) {
              // Refused in Node before any statement of its own was sent: the transaction holds.
              if (!(error instanceof ConcurrencyError || error instanceof IdempotencyConflictError))
                throw error;
              outcomes.push({ rejected: error });
            }
          }
        });
      } catch (error) {
        for (const request of group) {
          if (isConnectionLost(error)) request.reject(error);
          else
            store
              .transact((session) => appendIn(session, request, true))
              .then(request.resolve, request.reject);
        }
        continue;
      }
      for (const [i, request] of group.entries()) {
        const outcome = outcomes[i];
        if (outcome && "ok" in outcome) request.resolve(outcome.ok);
        else request.reject(outcome?.rejected);
      }
    }
    draining = false;
  }

  return {
    ...store,
    append: (
      streamId: string,
      expectedVersion: ExpectedVersion,
      events: NewEvent[],
      metadata: Metadata,
      idempotencyKey?: string,
    ) => appendMany([{ streamId, expectedVersion, events }], metadata, idempotencyKey),
    appendMany,
  };
}

async function appendIn(
  session: AppendSession,
  request: WaitingAppend,
  commit: boolean,
): Promise<AppendResult> {
  const { appends, metadata, idempotency } = request;
  if (idempotency) {
    const earlier = await session.findIdempotent(idempotency);
    if (earlier) return { events: earlier, replayed: true };
  }
  const keyed = idempotency ? { ...metadata, idempotencyKey: idempotency.key } : metadata;
  return { events: await session.write(appends, keyed, idempotency, { commit }), replayed: false };
}

function requestOf(append: StreamAppend) {
  return { streamId: append.streamId, events: append.events.map((e) => ({ type: e.type, data: e.data })) };
}

/** What identifies a request for idempotency: who asks and why, not when or under which update. */
function stableMetadata(metadata: Metadata) {
  return { actor: metadata.actor, reason: metadata.reason ?? null, forced: metadata.forced ?? false };
}
