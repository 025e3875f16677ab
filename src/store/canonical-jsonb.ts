import { canonicalJson } from "./hash-chain.ts";

/**
 * `canonicalJson(JSON.parse(text))` for the text PostgreSQL writes for a jsonb value, without
 * building the value: the scanner copies every string and most numbers as they stand and only
 * reorders object members. That holds because PostgreSQL escapes a string as JSON.stringify does
 * (`\"`, `\\`, `\b \f \n \r \t`, other controls as lower-case `\u00xx`, everything else as is, and
 * jsonb cannot hold a lone surrogate), so a string token is already its canonical form. What
 * differs is spacing (`", "` and `": "`), key order (jsonb sorts keys by length first) and
 * numbers, whose scale jsonb keeps (`1.0`, `0.10`, and digits past a double's): any number that
 * is not a plain integer of up to 15 digits is rewritten through JSON.parse.
 *
 * Text of another shape than PostgreSQL's own (other spacing, other escapes) is handed to the
 * parse-and-write path where the scanner meets what it does not expect, and text that is not JSON
 * throws as JSON.parse would. What PostgreSQL never writes inside a string (a raw control
 * character, a lone surrogate) is not looked for: it is copied as it stands.
 */
export function canonicalJsonOfJsonbText(text: string): string {
  const scanner = new Scanner(text);
  try {
    const canonical = scanner.value();
    scanner.skipSpaces();
    if (scanner.at === text.length) return canonical;
  } catch (error) {
    if (error !== UNEXPECTED) throw error;
  }
  return canonicalJson(JSON.parse(text));
}

const UNEXPECTED = Symbol("not jsonb text");

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** An integer JSON.stringify writes back as it stands: no fraction, exponent, or lost digits. */
const PLAIN_INTEGER = /^-?(?:0|[1-9][0-9]{0,14})$/;

class Scanner {
  at = 0;
  /** Whether the last string scanned held an escape. */
  escaped = false;
  /** Without a backslash anywhere, a string ends at the next quote: one native search. */
  private readonly plain: boolean;
  constructor(private readonly text: string) {
    this.plain = !text.includes("\\");
  }

  skipSpaces(): void {
    let code = this.text.charCodeAt(this.at);
    while (code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09) {
      this.at += 1;
      code = this.text.charCodeAt(this.at);
    }
  }

  value(): string {
    this.skipSpaces();
    const code = this.text.charCodeAt(this.at);
    if (code === QUOTE) return this.string();
    if (code === OPEN_BRACE) return this.object();
    if (code === OPEN_BRACKET) return this.array();
    return this.literal();
  }

  /** A string token in its canonical form; `escaped` says whether it held an escape. */
  string(): string {
    const { text } = this;
    const start = this.at;
    const end = this.plain ? text.indexOf('"', start + 1) : this.escapedEnd(start + 1);
    if (end < 0) throw UNEXPECTED;
    this.at = end + 1;
    const token = text.slice(start, end + 1);
    // An escape other than PostgreSQL's own (`\/`, `\u00E9`) would not be canonical as written.
    return this.escaped ? JSON.stringify(JSON.parse(token)) : token;
  }

  /** The closing quote of a string that may hold escapes, and whether it does. */
  private escapedEnd(from: number): number {
    const { text } = this;
    this.escaped = false;
    for (let at = from; at < text.length; at++) {
      const code = text.charCodeAt(at);
      if (code === QUOTE) return at;
      if (code === BACKSLASH) {
        this.escaped = true;
        at += 1;
      }
    }
    return -1;
  }

  object(): string {
    if (this.empty(CLOSE_BRACE)) return "{}";
    // Each member's key and `"key":value`, kept sorted as they come by UTF-16 code unit, as
    // canonicalJson sorts Object.keys: a few members each, in an order close to sorted.
    const keys: string[] = [];
    const members: string[] = [];
    for (;;) {
      this.skipSpaces();
      if (this.text.charCodeAt(this.at) !== QUOTE) throw UNEXPECTED;
      const token = this.string();
      const key: string = this.escaped ? JSON.parse(token) : token.slice(1, -1);
      this.expect(COLON);
      const member = `${token}:${this.value()}`;
      let i = keys.length;
      while (i > 0 && (keys[i - 1] as string) > key) {
        keys[i] = keys[i - 1] as string;
        members[i] = members[i - 1] as string;
        i -= 1;
      }
      keys[i] = key;
      members[i] = member;
      if (!this.separator(CLOSE_BRACE)) break;
    }
    return `{${members.join(",")}}`;
  }

  array(): string {
    if (this.empty(CLOSE_BRACKET)) return "[]";
    let out = "[";
    for (let first = true; ; first = false) {
      out += first ? this.value() : `,${this.value()}`;
      if (!this.separator(CLOSE_BRACKET)) break;
    }
    return `${out}]`;
  }

  /** Past an opening bracket: whether the closing one follows at once (and then past it too). */
  empty(close: number): boolean {
    this.at += 1;
    this.skipSpaces();
    if (this.text.charCodeAt(this.at) !== close) return false;
    this.at += 1;
    return true;
  }

  /** After a member or item: true at a comma (another follows), false at the closing bracket. */
  separator(close: number): boolean {
    this.skipSpaces();
    const code = this.text.charCodeAt(this.at);
    this.at += 1;
    if (code === COMMA) return true;
    if (code === close) return false;
    throw UNEXPECTED;
  }

  expect(code: number): void {
    this.skipSpaces();
    if (this.text.charCodeAt(this.at) !== code) throw UNEXPECTED;
    this.at += 1;
  }

  /** A number, true, false or null. */
  literal(): string {
    const { text } = this;
    const start = this.at;
    let at = start;
    for (;;) {
      const code = text.charCodeAt(at);
      // Letters, digits, '+', '-', '.': what a literal or a number is made of.
      const partOf =
        (code >= 0x30 && code <= 0x39) ||
        (code >= 0x61 && code <= 0x7a) ||
        (code >= 0x41 && code <= 0x5a) ||
        code === 0x2b ||
        code === 0x2d ||
        code === 0x2e;
      if (!partOf) break;
      at += 1;
    }
    if (at === start) throw UNEXPECTED;
    this.at = at;
    const token = text.slice(start, at);
    if (token === "true" || token === "false" || token === "null") return token;
    if (PLAIN_INTEGER.test(token) && token !== "-0") return token;
    const number: unknown = JSON.parse(token);
    if (typeof number !== "number") throw UNEXPECTED;
    return canonicalJson(number);
  }
}
