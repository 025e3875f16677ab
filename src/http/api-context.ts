import type { Ledger } from "../ledger/index.ts";
import type { ChangeHub } from "./change-hub.ts";

/** What every group of routes is given: the ledger, how long to wait for it, the change hub. */
export type ApiContext = {
  ledger: Ledger;
  /** The longest a request waits for one ledger call before answering 503. */
  deadlineMs: number;
  hub: ChangeHub;
};
