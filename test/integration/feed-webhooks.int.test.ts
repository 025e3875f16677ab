import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startWebhooks, webhookSubscriberName } from "../../src/index.ts";
import { createLedger, type Ledger } from "../../src/ledger/ledger.ts";
import { backends, type TestDatabase, testLogger } from "../support/databases.ts";

const actor = { kind: "cli", id: "olga", name: "Olga" } as const;
const SECRET = "a-webhook-secret-of-some-length";

type Delivery = { status: number; position: number; eventId: string; signatureOk: boolean; body: unknown };

/** A receiver on loopback that answers with `answer(n)` its n-th request, and checks each signature. */
async function receiver(answer: (n: number) => number) {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const expected = Buffer.from(`sha256=${createHmac("sha256", SECRET).update(raw).digest("hex")}`);
      const given = Buffer.from(String(req.headers["x-ledger-signature"] ?? ""));
      const status = answer(deliveries.length);
      deliveries.push({
        status,
        position: Number(req.headers["x-ledger-position"]),
        eventId: String(req.headers["x-ledger-event-id"]),
        signatureOk: given.length === expected.length && timingSafeEqual(given, expected),
        body: JSON.parse(raw.toString("utf8")),
      });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/ledger?token=abc`,
    deliveries,
    accepted: () => deliveries.filter((d) => d.status < 300),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function until(probe: () => boolean | Promise<boolean>) {
  while (!(await probe())) await new Promise((r) => setTimeout(r, 25));
}

describe.each(backends)("webhooks on $name", ({ open }) => {
  let test: TestDatabase | undefined;
  let ledger: Ledger | undefined;
  const closers: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    await ledger?.close();
    await test?.close();
  });

  it("POSTs every event in order, signed, through two 500s; a failing endpoint holds back only itself", async () => {
    test = await open();
    ledger = createLedger(test.db, { schema: test.schema, logger: testLogger, feed: { pollMs: 50 } });
    const l = ledger;
    await l.execute({ kind: "release", pluginId: "momentum", version: "0.9.0", author: "o" } as never, {
      actor,
    });
    const flaky = await receiver((n) => (n < 2 ? 500 : 200));
    const down = await receiver(() => 503);
    closers.push(flaky.close, down.close);
    const webhooks = startWebhooks(
      l,
      { urls: [flaky.url, down.url], secret: SECRET, timeoutMs: 5_000 },
      testLogger,
      { retry: { initialMs: 20, maxMs: 200 }, standbyMs: 50 },
    );
    closers.push(() => webhooks.stop());
    expect(webhooks.endpoints.map((e) => e.subscriber)).toEqual([
      webhookSubscriberName(flaky.url),
      webhookSubscriberName(down.url),
    ]);
    expect(webhooks.endpoints[0]?.subscriber).toMatch(/^webhook:[0-9a-f]{16}$/);
    // A new endpoint starts at the head: position 1 came before it.
    await until(async () => (await l.subscriptions()).length === 2);

    for (const v of ["1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"]) {
      const r = await l.execute({ kind: "release", pluginId: "momentum", version: v, author: "o" } as never, {
        actor,
      });
      expect(r.ok).toBe(true);
    }
    await until(() => flaky.accepted().length >= 5);
    await until(
      async () =>
        (await l.subscriptions()).find((s) => s.name === webhooks.endpoints[0]?.subscriber)?.position === 6,
    );

    expect(flaky.deliveries.slice(0, 3).map((d) => [d.position, d.status])).toEqual([
      [2, 500],
      [2, 500],
      [2, 200],
    ]);
    expect(flaky.accepted().map((d) => d.position)).toEqual([2, 3, 4, 5, 6]);
    expect(flaky.deliveries.every((d) => d.signatureOk)).toBe(true);
    const events = [];
    for await (const batch of l.events(1)) events.push(...batch);
    expect(flaky.accepted().map((d) => d.body)).toEqual(JSON.parse(JSON.stringify(events)));
    expect(flaky.accepted().map((d) => d.eventId)).toEqual(events.map((e) => e.eventId));

    const failing = (await l.subscriptions()).find((s) => s.name === webhooks.endpoints[1]?.subscriber);
    expect(failing).toMatchObject({ position: 1, lag: 5 });
    expect(failing?.lastError).toMatch(/position 2: the endpoint answered 503/);
    expect(down.deliveries.every((d) => d.position === 2 && d.signatureOk)).toBe(true);
  });
});
