import type { Scenario } from "../scenario.ts";
import { abAssignment } from "./ab-assignment.ts";
import { append } from "./append.ts";
import { botLatency } from "./bot-latency.ts";
import { changes } from "./changes.ts";
import { cliStartup } from "./cli-startup.ts";
import { command } from "./command.ts";
import { feed } from "./feed.ts";
import { httpPlugin } from "./http-plugin.ts";
import { merkle } from "./merkle.ts";
import { queries } from "./queries.ts";
import { rebuild } from "./rebuild.ts";
import { replay } from "./replay.ts";
import { sseFanout } from "./sse-fanout.ts";
import { timeline } from "./timeline.ts";
import { verify } from "./verify.ts";

/**
 * Every scenario, in the order they run (they share the run's schema, so a later one sees the
 * events an earlier one wrote). Adding one: a module exporting a `Scenario`, and a line here.
 */
export const scenarios: Scenario[] = [
  append,
  replay,
  botLatency,
  command,
  rebuild,
  verify,
  queries,
  timeline,
  abAssignment,
  merkle,
  feed,
  changes,
  httpPlugin,
  sseFanout,
  cliStartup,
];
