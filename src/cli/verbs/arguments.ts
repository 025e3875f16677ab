import { InvalidArgumentError } from "commander";

/** Commander argument parsers: a bad value becomes a one-line usage error (exit 2). */
export function nonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`expected a whole number, got "${value}"`);
  }
  return Number(value);
}

export function positiveInt(value: string): number {
  const n = nonNegativeInt(value);
  if (n === 0) throw new InvalidArgumentError("expected a number above 0");
  return n;
}
