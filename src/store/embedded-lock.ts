import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";

/**
 * Who holds an embedded ledger folder. The lock is a file holding the owner's pid, created
 * atomically, so of two processes starting at once exactly one becomes the owner.
 * A lock left by a dead process (SIGKILL, power loss) is taken over under a second exclusive step
 * (a `.takeover` directory), so two processes that both see the same stale lock cannot both
 * replace it.
 */
export type LockAttempt = { held: true } | { held: false; ownerPid: number };

const TAKEOVER_STALE_MS = 5_000;

export function tryLock(lockPath: string): LockAttempt {
  for (;;) {
    if (createWithContent(lockPath, `${process.pid}\n`)) return { held: true };
    const ownerPid = readOwner(lockPath);
    if (ownerPid !== undefined && isAlive(ownerPid)) return { held: false, ownerPid };
    if (!takeOverStale(lockPath, ownerPid)) return { held: false, ownerPid: ownerPid ?? 0 };
  }
}

/**
 * The lock appears already holding its pid: written to a private file first, then hard-linked into
 * place (link(2) fails with EEXIST atomically). A reader never sees an empty lock it might take
 * for a stale one.
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

/** Removes the lock only if it is still ours (a later owner's lock is left alone). */
export function releaseLock(lockPath: string): void {
  if (readOwner(lockPath) === process.pid) rmSync(lockPath, { force: true });
}

export function readOwner(lockPath: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, "utf8").trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Returns true when the stale lock was removed (the caller then retries the create), false
 * when another process is taking it over right now (the caller waits and looks again).
 */
function takeOverStale(lockPath: string, stalePid: number | undefined): boolean {
  const guard = `${lockPath}.takeover`;
  try {
    mkdirSync(guard);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    // A takeover whose process died half-way must not block the folder forever.
    try {
      if (Date.now() - statSync(guard).mtimeMs > TAKEOVER_STALE_MS)
        rmSync(guard, { recursive: true, force: true });
    } catch {}
    return false;
  }
  try {
    // Re-read under the guard: if someone replaced the stale lock meanwhile, it is not ours to remove.
    if (readOwner(lockPath) === stalePid) {
      try {
        unlinkSync(lockPath);
      } catch {}
    }
    return true;
  } finally {
    rmSync(guard, { recursive: true, force: true });
  }
}
