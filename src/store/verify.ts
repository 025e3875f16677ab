import { canonicalJsonOfJsonbText } from "./canonical-jsonb.ts";
import type { ChainRow, EventStore, Head } from "./event-store.ts";
import { eventHashHexOfJson, GENESIS_HASH } from "./hash-chain.ts";

export type VerifyResult = {
  ok: boolean;
  events: number;
  headHash: string;
  firstBadPosition: number | null;
  /** Why the first bad position is bad; null when the chain verifies. */
  problem: string | null;
};

/** The first position at which the chain does not hold, and why. */
export type ChainBreak = { position: number; problem: string };

/** A rebuild (or any reader that must trust history) met a chain that does not verify. */
export class ChainTamperedError extends Error {
  override name = "ChainTamperedError";
  constructor(readonly broken: ChainBreak) {
    super(`the hash chain does not verify at position ${broken.position}: ${broken.problem}`);
  }
}

/**
 * Checks events handed to it in position order from the first, as `verify` walks them and as a
 * rebuild reads them: a recomputed hash that differs (an edited row, or two rows swapped), a
 * previous-hash link that does not match (a row inserted or removed), a gap in positions (a
 * deleted row); `end` then checks the head against the last event (rows removed from the end)
 * and, given the highest position in the table, rows added past the head.
 */
export function chainChecker() {
  let expectedPosition = 1;
  // In hex: verify and rebuild read the chain as text (see `readChainBatches`).
  let prevHash = GENESIS_HASH.toString("hex");
  let checked = 0;
  const passed = (hashHex: string) => {
    prevHash = hashHex;
    expectedPosition += 1;
    checked += 1;
    return null;
  };
  const gap = (position: number): ChainBreak | null =>
    position === expectedPosition
      ? null
      : {
          position: expectedPosition,
          problem: `position ${expectedPosition} is missing (next is ${position})`,
        };
  const broken = (problem: string): ChainBreak => ({ position: expectedPosition, problem });
  return {
    get checked() {
      return checked;
    },
    /**
     * The break this row shows, or null; stop feeding rows after the first break. The row is
     * read as text by `readChainBatches`; its jsonb text is written canonically as it stands,
     * without being parsed into values (canonical-jsonb.ts).
     */
    checkRow(row: ChainRow): ChainBreak | null {
      const missing = gap(row.position);
      if (missing) return missing;
      if (row.prevHash !== prevHash) return broken(LINK_BROKEN);
      let recomputed: string;
      try {
        const data = canonicalJsonOfJsonbText(row.dataJson);
        const metadata = canonicalJsonOfJsonbText(row.metadataJson);
        recomputed = eventHashHexOfJson(row, data, metadata);
      } catch (error) {
        // JSON nested deeper than the stack allows: no append could have hashed it (writing it
        // canonically fails the same way), so only an edit of the table can have put it there.
        if (error instanceof RangeError) return broken(TOO_DEEP);
        throw error;
      }
      if (recomputed !== row.hash) return broken(CONTENT_CHANGED);
      return passed(row.hash);
    },
    end(head: Head, highestPosition = head.position): ChainBreak | null {
      if (head.position !== checked) {
        return {
          position: checked + 1,
          problem: `the head says ${head.position} events, the table holds ${checked}`,
        };
      }
      if (head.hash.toString("hex") !== prevHash)
        return { position: head.position, problem: "the head hash differs from the last event's hash" };
      if (highestPosition > head.position) {
        return {
          position: head.position + 1,
          problem: `rows past the head (up to position ${highestPosition})`,
        };
      }
      return null;
    },
  };
}

const LINK_BROKEN = "its previous-hash link does not match the event before it";
const CONTENT_CHANGED = "its content does not match its hash";
const TOO_DEEP = "its content is nested too deeply to have been hashed by an append";

/** Walks the whole chain in position order and names the first position that does not hold. */
export async function verifyChain(
  store: EventStore,
  onProgress?: (checked: number, total: number) => void,
): Promise<VerifyResult> {
  const head = await store.head();
  const checker = chainChecker();
  const result = (broken: ChainBreak | null): VerifyResult => ({
    ok: broken === null,
    events: checker.checked,
    headHash: head.hash.toString("hex"),
    firstBadPosition: broken?.position ?? null,
    problem: broken?.problem ?? null,
  });
  // 500 rows a batch: the strings of two batches are in flight at once (the next one is read
  // ahead), and a smaller batch keeps the peak memory down.
  for await (const batch of store.readChainBatches(0, 500)) {
    for (const row of batch) {
      const broken = checker.checkRow(row);
      if (broken) return result(broken);
    }
    onProgress?.(checker.checked, head.position);
  }
  return result(checker.end(head, checker.checked));
}
