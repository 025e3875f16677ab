/**
 * Telegram's HTML parse mode. Every string that came from a user or from the database goes
 * through `escapeHtml`; the markup around it is ours, so a reply cannot be broken (or turned
 * into someone else's markup) by a release note.
 */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

export const bold = (text: string) => `<b>${escapeHtml(text)}</b>`;
export const code = (text: string) => `<code>${escapeHtml(text)}</code>`;
export const italic = (text: string) => `<i>${escapeHtml(text)}</i>`;

/** Cuts plain text (before escaping) to `max` characters, with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Telegram refuses a message over 4096 characters; the margin leaves room for nothing else. */
export const MESSAGE_LIMIT = 4000;

/**
 * Splits HTML into messages under `limit` characters, on line boundaries. A single line longer
 * than the limit is cut between tokens (never inside a tag or an entity), closing the tags open
 * at the cut and opening them again in the next message, so each message parses on its own.
 */
export function splitHtml(html: string, limit = MESSAGE_LIMIT): string[] {
  const messages: string[] = [];
  let current = "";
  for (const line of html.split("\n")) {
    const pieces = line.length <= limit ? [line] : splitLine(line, limit);
    for (const piece of pieces) {
      if (current === "") current = piece;
      else if (current.length + 1 + piece.length <= limit) current += `\n${piece}`;
      else {
        messages.push(current);
        current = piece;
      }
    }
  }
  if (current.trim() !== "") messages.push(current);
  return messages.filter((m) => m.trim() !== "");
}

const TOKEN = /<[^>]*>|&[#a-zA-Z0-9]+;|[\s\S]/g;

function splitLine(line: string, limit: number): string[] {
  const pieces: string[] = [];
  const open: Array<{ name: string; tag: string }> = [];
  const closing = () =>
    open
      .map((t) => `</${t.name}>`)
      .reverse()
      .join("");
  let current = "";
  for (const token of line.match(TOKEN) ?? []) {
    if (current.length + token.length + closing().length > limit && current !== "") {
      pieces.push(current + closing());
      current = open.map((t) => t.tag).join("");
    }
    current += token;
    const tag = /^<(\/?)([a-zA-Z-]+)/.exec(token);
    if (tag?.[2]) {
      if (tag[1]) open.pop();
      else open.push({ name: tag[2], tag: token });
    }
  }
  if (current !== "") pieces.push(current);
  return pieces;
}
