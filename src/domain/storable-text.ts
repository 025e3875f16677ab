import { type Violation, violation } from "./violations.ts";

// A UTF-16 surrogate without its partner: no UTF-8 encoding exists for it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Text PostgreSQL can store: its text and jsonb types refuse NUL and text that is not UTF-8. */
export function isStorableText(text: string): boolean {
  return !text.includes("\u0000") && !LONE_SURROGATE.test(text);
}

/**
 * INVALID_INPUT naming the first string (value or key) anywhere in `value` that the database
 * would refuse, so that such input is a usage error and never a database error. The walk keeps
 * its own stack: an import file nested 100,000 levels deep must not overflow the call stack.
 */
export function unstorableTextViolations(value: unknown, subject = "The request"): Violation[] {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: "" }];
  while (stack.length > 0) {
    const { value: next, path } = stack.pop() as { value: unknown; path: string };
    if (typeof next === "string") {
      if (!isStorableText(next)) return [unstorable(subject, path)];
    } else if (Array.isArray(next)) {
      next.forEach((item, index) => {
        stack.push({ value: item, path: `${path}[${index}]` });
      });
    } else if (next !== null && typeof next === "object") {
      for (const [key, item] of Object.entries(next)) {
        if (!isStorableText(key)) return [unstorable(subject, `${path} (a key)`)];
        stack.push({ value: item, path: path === "" ? key : `${path}.${key}` });
      }
    }
  }
  return [];
}

function unstorable(subject: string, path: string): Violation {
  const where = path === "" ? "" : ` in ${path.length > 80 ? `${path.slice(0, 80)}…` : path}`;
  return violation(
    "INVALID_INPUT",
    `${subject} holds a NUL character or a broken unicode surrogate${where}, which cannot be stored.`,
  );
}
