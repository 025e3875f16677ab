import { randomBytes, randomUUID } from "node:crypto";
import { z } from "zod";
import { markDecided } from "../../projections/ledger-projection.ts";
import {
  type Command,
  type CommandRequest,
  decide,
  EVENT_SCHEMA_VERSION,
  type PlannedEvent,
  unstorableTextViolations,
  type Violation,
  type ViolationCode,
} from "../domain/index.ts";
import type { Logger } from "../log.ts";
import {
  type AppendSession,
  ConcurrencyError,
  type EventStore,
  IdempotencyConflictError,
  type Metadata,
  type NewEvent,
  type StoredEvent,
  type StreamAppend,
} from "../store/index.ts";
import { heldStates } from "./held-state.ts";
import type { Reconnect } from "./reconnect.ts";
import { type RecordedEvent, recordedEvent, recordedEvents } from "./recorded-event.ts";
import { withoutRanAtPosition, withRollbackPosition } from "./rollback-position.ts";
import { afterCommit, readState, type StateRead, stateUnderLock } from "./state-loader.ts";

const ExecuteContextSchema = z.object({
  actor: z.object({
    kind: z.enum(["telegram", "cli", "http", "system"]),
    id: z.string().min(1),
    name: z.string().min(1).optional(),
  }),
  reason: z.string().optional(),
  force: z.boolean().optional(),
  dryRun: z.boolean().optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
  causationId: z.string().min(1).optional(),
  correlationId: z.string().min(1).optional(),
  allowMajor: z.boolean().optional(),
});

/** Who asks and how; `force`, `dryRun` and `allowMajor` may also be set on the command itself. */
export type ExecuteContext = z.input<typeof ExecuteContextSchema>;

/**
 * `replayed`: the caller's own idempotency key was found, so the events are the ones an earlier
 * request (or an earlier attempt of this one, whose commit was not confirmed) wrote.
 */
export type ExecuteResult =
  | { ok: true; dryRun?: false; replayed: boolean; events: RecordedEvent[]; overrides: ViolationCode[] }
  | { ok: true; dryRun: true; events: PlannedEvent[]; overrides: ViolationCode[] }
  | { ok: false; dryRun?: boolean; violations: Violation[] };

/** A conflict is retried this many times in all, each time deciding again on fresh state. */
const MAX_ATTEMPTS = 3;

/**
 * Work that must commit or roll back with the change: it runs in the append's transaction, under
 * the head lock, before anything is decided. It throws to refuse (the whole attempt is rolled
 * back and the error reaches the caller); a dry run skips it. It runs again when the attempt
 * does (after a lost connection), so it must accept its own earlier, committed claim.
 */
export type Claim = (session: AppendSession) => Promise<void>;

export type ExecuteOptions = { claim?: Claim };

type Deps = {
  store: EventStore;
  projections: readonly string[];
  clock: () => Date;
  logger: Logger;
  /** Runs an attempt again on a new connection when its connection is lost (ledger-reconnect.ts). */
  retry: Reconnect;
};

export function createExecute(deps: Deps) {
  const held = heldStates();
  return async function execute(
    command: CommandRequest,
    context: ExecuteContext,
    options: ExecuteOptions = {},
  ): Promise<ExecuteResult> {
    const request = prepare(command, context, deps.clock);
    if (!("decided" in request)) return request;
    // A key made here is new on the first try: only a try after a lost connection (or a
    // conflict) needs to look it up, which saves the first one a round trip.
    let tries = 0;
    for (let attempt = 1; ; attempt++) {
      try {
        return await deps.retry(`execute ${command.kind}`, () => {
          tries += 1;
          const lookUp = request.ctx.idempotencyKey !== undefined || tries > 1;
          // Two round trips: the state is read with the head lock, and the events, their
          // projections and the COMMIT are written together (on a server; see event-store.ts).
          return deps.store.transact(
            (session, read) => decideAndWrite(session, read, request, { ...options, lookUp }),
            readState(request.decided, deps.projections, held),
          );
        });
      } catch (error) {
        if (error instanceof IdempotencyConflictError) return conflict(`${error.message}.`);
        if (!(error instanceof ConcurrencyError)) throw error;
        deps.logger.warn({ err: error, attempt, kind: command.kind }, "command met a concurrent change");
        if (attempt >= MAX_ATTEMPTS) {
          return conflict(`The ledger changed concurrently ${attempt} times in a row; try again.`);
        }
      }
    }
  };
}

/** A request checked and made ready to decide: the same for every attempt. */
type Prepared = {
  ctx: z.output<typeof ExecuteContextSchema>;
  dryRun: boolean;
  decided: Command;
  idempotency: { key: string; request: unknown } | undefined;
  metadata: Metadata;
};

/** The request checked, its options folded in, its defaults filled; or why it cannot run. */
function prepare(
  command: CommandRequest,
  context: ExecuteContext,
  clock: () => Date,
): Prepared | ExecuteResult {
  const parsed = ExecuteContextSchema.safeParse(context);
  if (!parsed.success) return invalid(`The request context is invalid: ${z.prettifyError(parsed.error)}`);
  const ctx = parsed.data;
  const unstorable = unstorableTextViolations({ command, context: ctx });
  if (unstorable.length > 0) return { ok: false, violations: unstorable };
  const force = ctx.force === true || command.force === true;
  const dryRun = ctx.dryRun === true || command.dryRun === true;
  if (force && (ctx.reason === undefined || ctx.reason.trim() === "")) {
    return invalid("A forced command needs a reason, which the ledger records with its overrides.");
  }
  const withOptions = applyOptions(withoutRanAtPosition(command), force, ctx.allowMajor === true);
  // The fingerprint is the request as asked, before defaults such as "built now" are filled
  // in, so that a retried request matches its first attempt.
  const { dryRun: _, ...asked } = withOptions;
  // Every write carries a key, made here once when the caller gave none: when a connection is
  // lost around the commit, the attempt that runs again finds the first one's events under it
  // instead of writing them twice. A dry run writes nothing and needs none.
  const idempotency = dryRun
    ? undefined
    : {
        key: ctx.idempotencyKey ?? `auto:${randomUUID()}`,
        request: { command: asked, actor: ctx.actor, reason: ctx.reason ?? null, force },
      };
  const decided = withAbTestIdentity(
    withReleaseDefaults(withOptions, ctx.actor.name ?? ctx.actor.id, clock()),
  );
  const metadata: Metadata = compact({
    actor: ctx.actor,
    reason: ctx.reason,
    forced: force,
    correlationId: ctx.correlationId,
    causationId: ctx.causationId,
    idempotencyKey: idempotency?.key,
  });
  return { ctx, dryRun, decided, idempotency, metadata };
}

/** One attempt, in the append's transaction under the head lock. */
async function decideAndWrite(
  session: AppendSession,
  read: StateRead,
  request: Prepared,
  options: ExecuteOptions & { lookUp: boolean },
): Promise<ExecuteResult> {
  const { ctx, dryRun, decided, idempotency, metadata } = request;
  if (options.claim && !dryRun) await options.claim(session);
  if (idempotency && options.lookUp) {
    const earlier = await session.findIdempotent(idempotency);
    if (earlier) return replayed(earlier, ctx.idempotencyKey !== undefined);
  }
  // A rollback to a position looks up what ran there (one more read, for that case
  // only); the state read above already holds the plugin's whole catalog.
  const resolved = await withRollbackPosition(session, decided);
  const decision = decide(resolved, await stateUnderLock(session, read));
  if (!decision.ok) return dryRun ? { ...decision, dryRun } : decision;
  const { events, overrides } = decision;
  if (dryRun) return { ok: true, dryRun: true, events, overrides };
  markDecided(events);
  const written = await write(session, events, { ...metadata, overrides }, idempotency);
  afterCommit(read, written, session.knownVersions, session.head);
  return { ok: true, replayed: false, events: recordedEvents(written), overrides };
}

/**
 * One append per stream, in the order streams first appear. No expected version: the head
 * lock serialises appends, so the state this decision read cannot change before it commits;
 * the store's unique index on stream versions stays the backstop.
 */
function write(
  session: AppendSession,
  events: PlannedEvent[],
  metadata: Metadata,
  idempotency: { key: string; request: unknown } | undefined,
): Promise<StoredEvent[]> {
  const byStream = new Map<string, NewEvent[]>();
  for (const { streamId, type, data } of events) {
    const stream = byStream.get(streamId) ?? [];
    stream.push({ type, data, schemaVersion: EVENT_SCHEMA_VERSION });
    byStream.set(streamId, stream);
  }
  const appends: StreamAppend[] = [...byStream].map(([streamId, events]) => ({ streamId, events }));
  return session.write(appends, metadata, idempotency, { commit: true });
}

/** `byCaller`: the key was the caller's; a generated one found again is this call's own write. */
function replayed(earlier: StoredEvent[], byCaller: boolean): ExecuteResult {
  const overrides = (earlier[0]?.metadata.overrides ?? []) as ViolationCode[];
  return { ok: true, replayed: byCaller, events: earlier.map(recordedEvent), overrides };
}

const TAKES_ALLOW_MAJOR = new Set(["upgrade", "rollback", "abTestStart"]);

/** The context's options folded into the command, where `decide` reads them. */
function applyOptions(command: CommandRequest, force: boolean, allowMajor: boolean): CommandRequest {
  const withForce = { ...command, force };
  if (
    TAKES_ALLOW_MAJOR.has(command.kind) &&
    (allowMajor || ("allowMajor" in command && command.allowMajor))
  ) {
    return { ...withForce, allowMajor: true } as CommandRequest;
  }
  return withForce;
}

/**
 * A new A/B test's id and salt: the domain has no randomness, so they are drawn here, after the
 * idempotency fingerprint (a retried start matches its first attempt and gets its test back),
 * and whatever a caller put in their place is replaced.
 */
function withAbTestIdentity(command: CommandRequest): Command {
  if (command.kind !== "abTestStart") return command;
  return { ...command, testId: randomUUID(), salt: randomBytes(16).toString("hex") };
}

/** DESIGN.md's release defaults: built now, by the actor. A transport may already have set them. */
function withReleaseDefaults(command: CommandRequest, author: string, now: Date): CommandRequest {
  const fill = (release: unknown) =>
    typeof release === "object" && release !== null && !Array.isArray(release)
      ? { buildDate: now.toISOString(), author, ...dropUndefined(release) }
      : release;
  if (command.kind === "release") return fill(command) as CommandRequest;
  if (command.kind === "import" && Array.isArray(command.releases)) {
    return { ...command, releases: command.releases.map(fill) } as CommandRequest;
  }
  return command;
}

function dropUndefined(value: object): object {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

function compact<T extends object>(value: T): T {
  return dropUndefined(value) as T;
}

const invalid = (message: string): ExecuteResult => ({
  ok: false,
  violations: [{ code: "INVALID_INPUT", message }],
});

const conflict = (message: string): ExecuteResult => ({
  ok: false,
  violations: [{ code: "CONFLICT", message }],
});
