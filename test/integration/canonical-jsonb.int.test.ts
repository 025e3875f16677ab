import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJsonOfJsonbText } from "../../src/store/canonical-jsonb.ts";
import { canonicalJson } from "../../src/store/hash-chain.ts";
import { backends, type TestDatabase } from "../support/databases.ts";
import { storeFixture } from "../support/store-fixture.ts";

/** jsonb text as the backend writes it for each of these JSON texts, in order. */
async function asJsonbText(ledger: TestDatabase, texts: readonly string[]): Promise<string[]> {
  const found = await ledger.db.pool.query({
    text: "SELECT value::jsonb::text FROM unnest($1::text[]) WITH ORDINALITY AS t(value, n) ORDER BY n",
    values: [texts],
    rowMode: "array",
  });
  return found.rows.map((row) => row[0] as string);
}

/** What the chain hashed before the scanner: parse, then write canonically. */
const parsedThenWritten = (text: string) => canonicalJson(JSON.parse(text));

/** Numbers jsonb keeps with their scale (`1.0`, `0.10`) or past a double: the scanner rewrites them as JSON.stringify does. */
const NUMBER_TEXTS = ["[1.0, 1e3, 12345678901234567890123, -0, 0.10, 1E-2, 9007199254740993, 1e400]"];

const EDGE_CASES = [
  // Key order: jsonb sorts by length first, the chain by UTF-16 code unit.
  { b: 1, a: 2, aa: 3, "a!": 4, "a ": 5, A: 6, "": 7 },
  // U+FF61 sorts after the surrogate pair of U+1F600 in UTF-16, before it by code point.
  { "\uff61": 1, "\u{1f600}": 2, é: 3, e: 4 },
  { nested: [{ z: [], y: {} }, [1, [2, { c: null, b: true, a: false }]]], 'quote"key': "back\\slash" },
  { controls: "\u0001\b\f\n\r\t\u001f\u007f\u2028", slash: "a/b", unicode: "Maria Kovalenko – ops 🚀" },
  [0, -1, 1.5, 0.1, 1e-7, 1e21, 123456789012345, -0.000001, 5e-324, 1.7976931348623157e308],
  "just a string",
  42,
  null,
  true,
];

/** Texts that are JSON but not PostgreSQL's output: the scanner hands them to JSON.parse. */
const NOT_JSONB_OUTPUT = [
  '{"a":1,"b":[1,2]}',
  '{ "b" : [ 1 , 2 ] , "a" : { } }',
  '"\\/\\u00E9\\u00e9"',
  '{"\\u0061b": 1, "a": 2}',
  "[1.0, 1e3, -0, 1E+2, 10.50]",
  "\n\t[ ]\r",
];

describe.each(backends)("the chain's canonical JSON from jsonb text on $name", ({ open }) => {
  const f = storeFixture(open);

  it("equals parsing the text and writing it canonically, for hand-picked values", async () => {
    const texts = await asJsonbText(f.ledger, [
      ...EDGE_CASES.map((value) => JSON.stringify(value)),
      ...NUMBER_TEXTS,
    ]);
    for (const text of texts) expect(canonicalJsonOfJsonbText(text)).toBe(parsedThenWritten(text));
    for (const text of NOT_JSONB_OUTPUT) expect(canonicalJsonOfJsonbText(text)).toBe(parsedThenWritten(text));
  });

  it("equals parsing the text and writing it canonically, for 2,000 random JSON values", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.jsonValue({ maxDepth: 4, stringUnit: "grapheme" }), { minLength: 50, maxLength: 50 }),
        async (values) => {
          const texts = await asJsonbText(
            f.ledger,
            values.map((value) => JSON.stringify(value)),
          );
          for (const text of texts) expect(canonicalJsonOfJsonbText(text)).toBe(parsedThenWritten(text));
        },
      ),
      { numRuns: 40 },
    );
  });

  it("throws for text that is not JSON, as parsing it would", () => {
    for (const text of ['{"a": 1', '{"a" 1}', "[1,]", "nope", '"open', "{} {}"]) {
      expect(() => canonicalJsonOfJsonbText(text)).toThrow(SyntaxError);
    }
  });
});
