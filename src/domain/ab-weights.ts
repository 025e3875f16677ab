/**
 * An A/B test's split in basis points: 10,000 of them make all units, and the candidate gets
 * 1 to 9999 (0.01% to 99.99%), so both arms always hold some units. Whole basis points keep the
 * split exact: 12.5% is 1250, never 0.125 in floating point.
 */
export const BASIS_POINTS = 10_000;
export const MIN_WEIGHT_BP = 1;
export const MAX_WEIGHT_BP = BASIS_POINTS - 1;

export function isCandidateWeight(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= MIN_WEIGHT_BP && (value as number) <= MAX_WEIGHT_BP;
}

/** 1250 -> 12.5 */
export function percentOf(weightBp: number): number {
  return weightBp / 100;
}

/** 1250 -> "12.5%", 1 -> "0.01%", 1000 -> "10%" */
export function formatPercent(weightBp: number): string {
  return `${percentOf(weightBp)}%`;
}

/**
 * A percentage as people type it ("10", "12.5", "0.01", "10%") in basis points, exactly: the
 * digits are read as text, never through a float. At most two decimals, since a basis point is
 * the finest split; null when the text is not such a number. The range is for the rules to
 * judge (INVALID_INPUT outside 1..9999), so "0" and "100" parse.
 */
export function parsePercent(text: string): number | null {
  const match = /^(\d{1,3})(?:\.(\d{1,2}))?%?$/.exec(text.trim());
  if (match === null) return null;
  const [, whole = "", fraction = ""] = match;
  return Number(whole) * 100 + Number(fraction.padEnd(2, "0"));
}
