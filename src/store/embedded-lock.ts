import { randomBytes } from "node:crypto";
import { closeSync, linkSync, openSync, readFileSync, rmSync, unlinkSync, writeSync } from "node:fs";

/**
 * Who holds an embedded ledger folder. The lock is a file created atomically, so of two processes
 * starting at once exactly one becomes the owner. It names its owner precisely enough to tell a
 * live owner from a pid that merely exists: the pid, a nonce of this lock, and (on Linux) the
 * owner's boot id and start time. A lock whose pid is dead, a zombie, reused by another process
 * (after a container restart, pid 1 is often ours) or ours without our nonce is stale, and is
 * taken over at once under a second exclusive step (a `.takeover` lock), so two processes
 * that both see the same stale lock cannot both replace it.
 */
export type LockAttempt = { held: true; nonce: string } | { held: false; ownerPid: number };

export type LockOwner = { pid: number; nonce?: string; bootId?: string; startTime?: string };

/** Nonces of the locks this process holds now: our own pid in a lock is live only with one of them. */
const heldNonces = new Set<string>();

export function tryLock(lockPath: string): LockAttempt {
  for (;;) {
    const nonce = randomBytes(8).toString("hex");
    if (createWithContent(lockPath, lockContent(nonce))) {
      heldNonces.add(nonce);
      return { held: true, nonce };
    }
    const owner = readOwner(lockPath);
    if (owner && isLiveOwner(owner)) return { held: false, ownerPid: owner.pid };
    if (!takeOverStale(lockPath, owner)) return { held: false, ownerPid: owner?.pid ?? 0 };
  }
}

function lockContent(nonce: string): string {
  const me = processIdentity(process.pid);
  // Line one stays the bare pid, as older versions wrote and read it.
  return `${process.pid}\n${JSON.stringify({ nonce, ...me })}\n`;
}

/**
 * The lock appears already holding its content: written to a private file first, then
 * hard-linked into place (link(2) fails with EEXIST atomically). A reader never sees an empty
 * lock it might take for a stale one.
 */
function createWithContent(lockPath: string, content: string): boolean {
  const draft = `${lockPath}.${process.pid}.draft`;
  const fd = openSync(draft, "w", 0o644);
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(draft, lockPath);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return false;
  } finally {
    rmSync(draft, { force: true });
  }
}

/** Removes the lock only if it is still this very lock (a later owner's lock is left alone). */
export function releaseLock(lockPath: string, nonce: string): void {
  heldNonces.delete(nonce);
  if (readOwner(lockPath)?.nonce === nonce) rmSync(lockPath, { force: true });
}

export function readOwner(lockPath: string): LockOwner | undefined {
  let text: string;
  try {
    text = readFileSync(lockPath, "utf8");
  } catch {
    return undefined;
  }
  const [pidLine = "", detailLine = ""] = text.split("\n");
  const pid = Number.parseInt(pidLine.trim(), 10);
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const detail = JSON.parse(detailLine) as Omit<LockOwner, "pid">;
    return { pid, nonce: detail.nonce, bootId: detail.bootId, startTime: detail.startTime };
  } catch {
    return { pid };
  }
}

/** Whether the process the lock names still runs, and is the very process that wrote it. */
export function isLiveOwner(owner: LockOwner): boolean {
  if (owner.pid === process.pid) return owner.nonce !== undefined && heldNonces.has(owner.nonce);
  if (!pidExists(owner.pid)) return false;
  const now = processIdentity(owner.pid);
  // A zombie has exited: its sockets and files are closed, only its parent has not reaped it.
  if (now.state === "Z") return false;
  // Another boot, or another process under the same pid: not the process that took the lock.
  if (owner.bootId && now.bootId && owner.bootId !== now.bootId) return false;
  if (owner.startTime && now.startTime && owner.startTime !== now.startTime) return false;
  return true;
}

/** Stopped by a signal (SIGSTOP, SIGTSTP) or a debugger: alive, but it will answer nobody. */
export function isStopped(pid: number): boolean {
  const state = processIdentity(pid).state;
  return state === "T" || state === "t";
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

type Identity = { bootId?: string; startTime?: string; state?: string };

/** Boot id and start time (clock ticks since boot) from /proc; empty where there is no /proc. */
function processIdentity(pid: number): Identity {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const bootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    return { bootId, state: fields[0], startTime: fields[19] };
  } catch {
    return {};
  }
}

/**
 * Returns true when the stale lock was removed (the caller then retries the create), false
 * when another process is taking it over right now (the caller waits and looks again).
 * The takeover guard is itself a lock naming its holder: it is given up only by its holder, or
 * removed when that holder is gone, never for being old (a live process paused on a busy machine
 * would otherwise lose it half-way and remove the next owner's lock).
 */
function takeOverStale(lockPath: string, stale: LockOwner | undefined): boolean {
  const guard = `${lockPath}.takeover`;
  const nonce = randomBytes(8).toString("hex");
  if (!createWithContent(guard, lockContent(nonce))) {
    const holder = readOwner(guard);
    if (holder && isLiveOwner(holder)) return false;
    // Its holder died half-way (or an older version left its guard directory): clear it, try once more.
    rmSync(guard, { force: true, recursive: true });
    if (!createWithContent(guard, lockContent(nonce))) return false;
  }
  heldNonces.add(nonce);
  try {
    // Re-read under the guard: if someone replaced the stale lock meanwhile, it is not ours to remove.
    const now = readOwner(lockPath);
    if (now?.pid === stale?.pid && now?.nonce === stale?.nonce) {
      try {
        unlinkSync(lockPath);
      } catch {}
    }
    return true;
  } finally {
    releaseLock(guard, nonce);
  }
}
