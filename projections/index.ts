import { abTests } from "./ab-tests.ts";
import { activations } from "./activations.ts";
import { auditChats } from "./audit-chats.ts";
import { catalog } from "./catalog.ts";
import { host } from "./host.ts";
import type { LedgerProjection } from "./ledger-projection.ts";
import { merkle } from "./merkle.ts";

export type { LedgerProjection } from "./ledger-projection.ts";

/** Every projection, applied inline in each append's transaction and by `rebuild`. */
export const projections: readonly LedgerProjection[] = [
  catalog,
  activations,
  host,
  abTests,
  auditChats,
  merkle,
];
