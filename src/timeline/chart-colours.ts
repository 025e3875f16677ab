/** The colours of a timeline chart: its palette, a colour per plugin version, a label's ink on it. */

/**
 * Vega's tableau10, then the rest of tableau20, assigned here rather than by a scheme so that
 * each bar's label can take the colour (white or near-black) that reads on it, and so that a
 * plugin's version keeps its colour from one chart to the next (see `coloursOf`).
 */
const PALETTE = [
  "#4c78a8",
  "#f58518",
  "#e45756",
  "#72b7b2",
  "#54a24b",
  "#eeca3b",
  "#b279a2",
  "#ff9da6",
  "#9d755d",
  "#bab0ac",
  "#9ecae9",
  "#ffbf79",
  "#88d27a",
  "#f2cf5b",
  "#83bcb6",
  "#ff9d98",
  "#d67195",
  "#fcbfd2",
  "#d6a5c9",
  "#d8b5a5",
];

/**
 * A colour per plugin version, the same in every chart: a hash of "plugin version" picks a
 * place in the palette. Two versions of one chart that hash alike would be told apart by
 * nothing, so the later (in the order given) takes the next free colour: only such a clash
 * makes a colour depend on what else the chart shows.
 */
export function coloursOf(keys: readonly string[]): Map<string, string> {
  const taken = new Set<number>();
  const colours = new Map<string, string>();
  for (const key of keys) {
    let at = fnv1a(key) % PALETTE.length;
    for (let tries = 0; taken.has(at) && tries < PALETTE.length; tries++) at = (at + 1) % PALETTE.length;
    taken.add(at);
    colours.set(key, PALETTE[at] as string);
  }
  return colours;
}

/** FNV-1a, 32 bits: small, fixed, and spreads short names such as versions well. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/** Near-black on light colours, white on dark ones (relative luminance, sRGB). */
export function inkOn(hex: string): string {
  const [r, g, b] = [1, 3, 5].map((at) => {
    const c = Number.parseInt(hex.slice(at, at + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b > 0.3 ? "#1a1a1a" : "#ffffff";
}
