import { isPluginId } from "../domain/index.ts";
import type { TimelineWindow } from "./pieces.ts";

/**
 * What a timeline is asked for, checked without SQL: its plugins, each end of its window as
 * given, and the window as resolved. Each refusal is a RangeError.
 */

/** The plugins, each once, in the order first given; at least one, each a plugin id. */
export function timelinePlugins(pluginIds: readonly string[]): string[] {
  const plugins = [...new Set(pluginIds)];
  if (plugins.length === 0) throw new RangeError("a timeline needs at least one plugin");
  const invalid = plugins.find((p) => !isPluginId(p));
  if (invalid !== undefined) throw new RangeError(`"${invalid}" is not a plugin id`);
  return plugins;
}

/** One end of a window as given: a valid date, or a position that is a whole number >= 0. */
export function checkWindowEnd(point: number | Date): void {
  if (point instanceof Date) {
    if (Number.isNaN(point.getTime())) throw new RangeError("a window's end needs a valid date");
  } else if (!Number.isSafeInteger(point) || point < 0) {
    throw new RangeError(`a position is a whole number >= 0, not ${point}`);
  }
}

/** The window as resolved, refused when it starts (by position or by moment) after it ends. */
export function checkWindowOrder(window: TimelineWindow): TimelineWindow {
  const { from: f, to: t } = window;
  if (f !== null && (f.position > t.position || f.at > t.at)) {
    throw new RangeError(
      `the window starts (position ${f.position}, ${f.at.toISOString()}) after it ends (position ${t.position}, ${t.at.toISOString()})`,
    );
  }
  return window;
}
