import type { ChainRow, EventStore } from "./event-store.ts";
import { canonicalJson, eventHashHexOfJson, GENESIS_HASH } from "./hash-chain.ts";

export type VerifyResult = {
  ok: boolean;
  events: number;
  headHash: string;
  firstBadPosition: number | null;
  /** Why the first bad position is bad; null when the chain verifies. */
  problem: string | null;
};

/**
 * Walks the whole chain in position order and names the first position that does not hold:
 * a recomputed hash that differs (an edited row, or two rows swapped), a previous-hash link that
 * does not match (a row inserted or removed), a gap in positions (a deleted row), or a head row
 * that points elsewhere than the last event (rows removed from the end).
 */
export async function verifyChain(
  store: EventStore,
  onProgress?: (checked: number, total: number) => void,
): Promise<VerifyResult> {
  const head = await store.head();
  let expectedPosition = 1;
  let prevHash = GENESIS_HASH.toString("hex");
  let checked = 0;
  const bad = (position: number, problem: string): VerifyResult => ({
    ok: false,
    events: checked,
    headHash: head.hash.toString("hex"),
    firstBadPosition: position,
    problem,
  });
  for await (const batch of store.readChainBatches(0, 500)) {
    for (const event of batch) {
      const problem = checkEvent(event, expectedPosition, prevHash);
      if (problem) return bad(expectedPosition, problem);
      prevHash = event.hash;
      expectedPosition += 1;
      checked += 1;
    }
    onProgress?.(checked, head.position);
  }
  if (head.position !== checked) {
    return bad(checked + 1, `the head says ${head.position} events, the table holds ${checked}`);
  }
  if (head.hash.toString("hex") !== prevHash)
    return bad(head.position, "the head hash differs from the last event's hash");
  return {
    ok: true,
    events: checked,
    headHash: head.hash.toString("hex"),
    firstBadPosition: null,
    problem: null,
  };
}

function checkEvent(event: ChainRow, expectedPosition: number, prevHash: string): string | null {
  if (event.position !== expectedPosition)
    return `position ${expectedPosition} is missing (next is ${event.position})`;
  if (event.prevHash !== prevHash) return "its previous-hash link does not match the event before it";
  const data = canonicalJson(JSON.parse(event.dataJson));
  const metadata = canonicalJson(JSON.parse(event.metadataJson));
  if (eventHashHexOfJson(event, data, metadata) !== event.hash) return "its content does not match its hash";
  return null;
}
