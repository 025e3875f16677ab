import { createHmac } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { backoffDelay } from "../../src/ledger/feed/backoff.ts";
import { isSubscriberName } from "../../src/ledger/feed/subscriber.ts";
import { parseHeadPayload } from "../../src/ledger/feed/wakeups.ts";
import { webhookSignature, webhookSubscriberName } from "../../src/webhooks/webhooks.ts";

describe("the NOTIFY payload", () => {
  it("is a head position in decimal; anything else (anyone may NOTIFY the channel) is ignored", () => {
    expect(parseHeadPayload("42")).toBe(42);
    expect(parseHeadPayload("0")).toBe(0);
    for (const bad of [undefined, "", " 1", "1.5", "-3", "1e3", "0x10", "99999999999999999", "12a"]) {
      expect(parseHeadPayload(bad)).toBeNull();
    }
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.nat().map(String)), (text) => {
        const parsed = parseHeadPayload(text);
        if (parsed !== null) {
          expect(Number.isSafeInteger(parsed) && parsed >= 0).toBe(true);
          expect(String(parsed)).toBe(text.replace(/^0+(?=\d)/, ""));
        }
      }),
    );
    fc.assert(
      fc.property(fc.maxSafeNat(), (n) => {
        expect(parseHeadPayload(String(n))).toBe(n);
      }),
    );
  });
});

describe("backoff", () => {
  it("grows exponentially from the initial delay, never above the maximum, jittered in the upper half", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, initialMs, maxMs, random) => {
          const delay = backoffDelay(attempt, { initialMs, maxMs }, () => random);
          const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
          expect(delay).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
          expect(delay).toBeLessThanOrEqual(Math.ceil(ceiling));
          expect(Number.isFinite(delay)).toBe(true);
        },
      ),
    );
    expect(backoffDelay(0, { initialMs: 1_000, maxMs: 60_000 }, () => 0.999)).toBe(1_000);
    expect(backoffDelay(3, { initialMs: 1_000, maxMs: 60_000 }, () => 0)).toBe(4_000);
    expect(backoffDelay(50, { initialMs: 1_000, maxMs: 60_000 }, () => 0.999)).toBe(59_970);
  });
});

describe("subscriber names", () => {
  it("are 1-200 printable ASCII characters without spaces", () => {
    expect(isSubscriberName("webhook:0123abcd")).toBe(true);
    for (const bad of ["", "has space", "tab\t", "é", "x".repeat(201), 5, null])
      expect(isSubscriberName(bad)).toBe(false);
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 250 }), (name) => {
        expect(isSubscriberName(name)).toBe(name.length >= 1 && name.length <= 200 && /^[!-~]+$/.test(name));
      }),
    );
  });
});

describe("webhooks", () => {
  it("sign the exact body with HMAC-SHA256, and name each endpoint by a hash that hides its URL", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 16 }), fc.string({ unit: "binary" }), (secret, body) => {
        expect(webhookSignature(secret, body)).toBe(
          `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
        );
      }),
    );
    const url = "https://hooks.example.com/ledger?token=very-secret";
    expect(webhookSubscriberName(url)).toMatch(/^webhook:[0-9a-f]{16}$/);
    expect(webhookSubscriberName(url)).not.toContain("secret");
    expect(webhookSubscriberName(url)).not.toBe(webhookSubscriberName(`${url}x`));
  });

  it("are configured as a comma-separated list of http(s) URLs with a secret, or refused with one line", () => {
    const config = loadConfig({
      LEDGER_WEBHOOK_URLS: " https://a.example/hook , http://127.0.0.1:9000/x,https://a.example/hook",
      LEDGER_WEBHOOK_SECRET: "0123456789abcdef",
    });
    expect(config.webhooks).toEqual({
      urls: ["https://a.example/hook", "http://127.0.0.1:9000/x"],
      secret: "0123456789abcdef",
      timeoutMs: 10_000,
    });
    expect(loadConfig({}).webhooks.urls).toEqual([]);
    expect(() => loadConfig({ LEDGER_WEBHOOK_URLS: "https://a.example/hook" })).toThrow(
      /LEDGER_WEBHOOK_SECRET is required/,
    );
    expect(() =>
      loadConfig({ LEDGER_WEBHOOK_URLS: "ftp://a.example", LEDGER_WEBHOOK_SECRET: "0123456789abcdef" }),
    ).toThrow(ConfigError);
    expect(() => loadConfig({ LEDGER_WEBHOOK_SECRET: "short" })).toThrow(ConfigError);
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), (urls, secret, timeout) => {
        try {
          const { webhooks } = loadConfig({
            LEDGER_WEBHOOK_URLS: urls,
            LEDGER_WEBHOOK_SECRET: secret,
            LEDGER_WEBHOOK_TIMEOUT_MS: timeout,
          });
          for (const url of webhooks.urls) expect(new URL(url).protocol).toMatch(/^https?:$/);
          if (webhooks.urls.length > 0) expect(webhooks.secret.length).toBeGreaterThanOrEqual(16);
          expect(webhooks.timeoutMs).toBeGreaterThanOrEqual(100);
        } catch (error) {
          expect(error).toBeInstanceOf(ConfigError);
          expect((error as Error).message).not.toContain("\n");
        }
      }),
    );
  });
});
