import type { EventStore, Head, StoredEvent } from "./event-store.ts";
import { eventHash, GENESIS_HASH } from "./hash-chain.ts";

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
  let prevHash: Buffer = GENESIS_HASH;
  let checked = 0;
  return {
    get checked() {
      return checked;
    },
    /** The break this event shows, or null; stop feeding events after the first break. */
    check(event: StoredEvent): ChainBreak | null {
      const problem = checkEvent(event, expectedPosition, prevHash);
      if (problem) return { position: expectedPosition, problem };
      prevHash = event.hash;
      expectedPosition += 1;
      checked += 1;
      return null;
    },
    end(head: Head, highestPosition = head.position): ChainBreak | null {
      if (head.position !== checked) {
        return {
          position: checked + 1,
          problem: `the head says ${head.position} events, the table holds ${checked}`,
        };
      }
      if (!head.hash.equals(prevHash))
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
  for await (const batch of store.readAllBatches(0)) {
    for (const event of batch) {
      const broken = checker.check(event);
      if (broken) return result(broken);
    }
    onProgress?.(checker.checked, head.position);
  }
  return result(checker.end(head, checker.checked));
}

function checkEvent(event: StoredEvent, expectedPosition: number, prevHash: Buffer): string | null {
  if (event.position !== expectedPosition)
    return `position ${expectedPosition} is missing (next is ${event.position})`;
  if (!event.prevHash.equals(prevHash)) return "its previous-hash link does not match the event before it";
  if (!eventHash(event).equals(event.hash)) return "its content does not match its hash";
  return null;
}
