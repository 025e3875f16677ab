import { formatPercent } from "./ab-weights.ts";

/**
 * What an event changed, in the few words a person reads first: the plugin and `from → to`, or
 * the version, the host's versions, an A/B split. Plain text, for every transport to format
 * (the CLI's `audit`, Telegram's previews and audit list). It reads untyped data, since an
 * audit entry carries its event's data as stored.
 */
export function eventSummary(data: unknown): string {
  const d = (data ?? {}) as Record<string, unknown>;
  const parts: string[] = [];
  if (typeof d.pluginId === "string") parts.push(d.pluginId);
  if (d.from && d.to) parts.push(`${d.from} → ${d.to}`);
  else if (typeof d.version === "string") parts.push(d.version);
  if (d.apiVersion) parts.push(`api ${d.apiVersion}, db schema ${d.dbSchemaVersion}`);
  if (d.control && d.candidate) parts.push(`${d.control} vs ${d.candidate}`);
  if (typeof d.candidateWeightBp === "number") parts.push(`@ ${formatPercent(d.candidateWeightBp)}`);
  if (typeof d.fromBp === "number" && typeof d.toBp === "number") {
    parts.push(`${formatPercent(d.fromBp)} → ${formatPercent(d.toBp)}`);
  }
  if (typeof d.chatId === "number") parts.push(`chat ${d.chatId} (${String(d.source)})`);
  return parts.join(" ");
}
