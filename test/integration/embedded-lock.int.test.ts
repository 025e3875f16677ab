import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { isLiveOwner, readOwner, releaseLock, tryLock } from "../../src/store/embedded-lock.ts";
import { freshDataDir, openEmbeddedLedger } from "../support/databases.ts";

const bootId = () => readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
const startTimeOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
};

/** A lock as a plugin-ledger process that has since gone would have left it, naming `pid`. */
function leftLock(lockPath: string, pid: number, startTime = "1") {
  writeFileSync(lockPath, `${pid}\n${JSON.stringify({ nonce: "gone", bootId: bootId(), startTime })}\n`);
}

/** A live process that is not a plugin-ledger owner. */
function unrelatedProcess() {
  const child = spawn("sleep", ["600"], { stdio: "ignore" });
  return { pid: child.pid as number, stop: () => child.kill("SIGKILL") };
}

describe("the embedded ledger's lock", () => {
  it("takes over at once a lock whose pid now runs an unrelated process", () => {
    const lockPath = path.join(mkdtempSync(path.join(tmpdir(), "pl-lock-")), "ledger.lock");
    const other = unrelatedProcess();
    try {
      leftLock(lockPath, other.pid);
      const attempt = tryLock(lockPath);
      expect(attempt.held).toBe(true);
      expect(readOwner(lockPath)?.pid).toBe(process.pid);
      if (attempt.held) releaseLock(lockPath, attempt.nonce);
    } finally {
      other.stop();
    }
  });

  it("takes over at once a lock holding our own pid that this process does not hold (pid 1 after a restart)", () => {
    const lockPath = path.join(mkdtempSync(path.join(tmpdir(), "pl-lock-")), "ledger.lock");
    leftLock(lockPath, process.pid, startTimeOf(process.pid));
    const attempt = tryLock(lockPath);
    expect(attempt.held).toBe(true);
    if (attempt.held) releaseLock(lockPath, attempt.nonce);
  });

  it("leaves alone a lock held by a live process that took it, and one held by this process", () => {
    const lockPath = path.join(mkdtempSync(path.join(tmpdir(), "pl-lock-")), "ledger.lock");
    const other = unrelatedProcess();
    try {
      // The very process that wrote it: its pid, boot and start time all match.
      leftLock(lockPath, other.pid, startTimeOf(other.pid));
      expect(tryLock(lockPath)).toEqual({ held: false, ownerPid: other.pid });
    } finally {
      other.stop();
    }
    const ours = path.join(mkdtempSync(path.join(tmpdir(), "pl-lock-")), "ledger.lock");
    const first = tryLock(ours);
    expect(first.held).toBe(true);
    expect(tryLock(ours)).toEqual({ held: false, ownerPid: process.pid });
    if (first.held) releaseLock(ours, first.nonce);
    expect(readOwner(ours)).toBeUndefined();
  });

  it("takes over at once when a process died half-way through a takeover, but waits for a live one", () => {
    const lockPath = path.join(mkdtempSync(path.join(tmpdir(), "pl-lock-")), "ledger.lock");
    leftLock(lockPath, 2 ** 22 + 1);
    leftLock(`${lockPath}.takeover`, 2 ** 22 + 2);
    const attempt = tryLock(lockPath);
    expect(attempt.held).toBe(true);
    if (attempt.held) releaseLock(lockPath, attempt.nonce);
    const other = unrelatedProcess();
    try {
      leftLock(lockPath, 2 ** 22 + 1);
      // A live process (however slow) in the middle of its takeover keeps it.
      leftLock(`${lockPath}.takeover`, other.pid, startTimeOf(other.pid));
      expect(tryLock(lockPath).held).toBe(false);
      expect(readOwner(lockPath)?.pid).toBe(2 ** 22 + 1);
    } finally {
      other.stop();
    }
  });

  it("treats a dead or zombie pid as gone, and an old pid-only lock of a live process as live", async () => {
    expect(isLiveOwner({ pid: 2 ** 22 + 1 })).toBe(false);
    // A parent that never reaps: its child, once exited, stays a zombie.
    const parent = spawn("sh", ["-c", "sleep 0 & echo $!; exec sleep 600"], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    try {
      const zombie = Number(
        await new Promise<string>((resolve) => parent.stdout.once("data", (d) => resolve(String(d)))),
      );
      while (!readFileSync(`/proc/${zombie}/stat`, "utf8").includes(") Z ")) await sleep(10);
      expect(isLiveOwner({ pid: zombie })).toBe(false);
    } finally {
      parent.kill("SIGKILL");
    }
    const other = unrelatedProcess();
    try {
      expect(isLiveOwner({ pid: other.pid })).toBe(true);
    } finally {
      other.stop();
    }
  });

  it("opens a folder whose lock names an unrelated live process, as its owner", async () => {
    const dataDir = freshDataDir();
    const other = unrelatedProcess();
    try {
      leftLock(path.join(dataDir, "ledger.lock"), other.pid);
      const ledger = await openEmbeddedLedger(dataDir);
      try {
        expect(ledger.db.mode).toBe("embedded-owner");
        expect(readOwner(path.join(dataDir, "ledger.lock"))?.pid).toBe(process.pid);
      } finally {
        await ledger.close();
      }
    } finally {
      other.stop();
    }
  });
});
