import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signerFromSeed } from "../../src/domain/signed-note.ts";
import type { LedgerApi } from "../../src/http/app.ts";
import { createLedger } from "../../src/ledger/ledger.ts";
import { testLogger } from "../support/databases.ts";
import { auth, OTHER_TOKEN, seedHistory, TOKEN, testApi } from "../support/http-api.ts";
import { type LedgerFixture, openFixture, release } from "../support/ledger-fixtures.ts";

let f: LedgerFixture;
let api: LedgerApi;

beforeAll(async () => {
  f = await openFixture();
  await seedHistory(f);
  api = await testApi(f.ledger);
});
afterAll(async () => {
  await api?.app.close();
  await f?.close();
});

const get = (url: string, headers: Record<string, string> = auth) =>
  api.app.inject({ method: "GET", url, headers });
/** The document as JSON would carry it: dates as ISO text. */
const json = (value: unknown) => JSON.parse(JSON.stringify(value));

function expectErrorShape(body: string, code?: string) {
  const parsed = JSON.parse(body);
  expect(Object.keys(parsed)).toEqual(["error"]);
  expect(typeof parsed.error.code).toBe("string");
  expect(typeof parsed.error.message).toBe("string");
  expect(parsed.error.message).not.toMatch(/\n\s+at /);
  if (code) expect(parsed.error.code).toBe(code);
}

describe("HTTP API: access", () => {
  it("opens only /healthz and /readyz; the rest wants a configured bearer token", async () => {
    expect((await get("/healthz", {})).json()).toEqual({ ok: true });
    const ready = await get("/readyz", {});
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ ok: true, position: await f.ledger.head() });

    for (const url of [
      "/v1/status",
      "/v1/plugins",
      "/v1/openapi.json",
      "/v1/changes",
      "/v1/checkpoint",
      "/v1/nothing-here",
    ]) {
      for (const headers of [
        {} as Record<string, string>,
        { authorization: `Bearer ${TOKEN}x` },
        { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
        { authorization: TOKEN },
        { authorization: `Basic ${Buffer.from(`u:${TOKEN}`).toString("base64")}` },
        { authorization: "Bearer " },
      ]) {
        const answer = await get(url, headers);
        expect(answer.statusCode, `${url} ${JSON.stringify(headers)}`).toBe(401);
        expectErrorShape(answer.body, "UNAUTHORIZED");
      }
    }
    expect((await get("/v1/status", { authorization: `Bearer ${OTHER_TOKEN}` })).statusCode).toBe(200);
    expect((await get("/v1/status", { authorization: `bearer ${TOKEN}` })).statusCode).toBe(200);
  });

  it("answers an unknown route 404 in the error shape", async () => {
    for (const url of ["/v1/nothing", "/v2/status", "/", "/v1/plugins/momentum/nothing"]) {
      const answer = await get(url);
      expect(answer.statusCode, url).toBe(404);
      expectErrorShape(answer.body, "NOT_FOUND");
    }
    expect((await api.app.inject({ method: "POST", url: "/v1/status", headers: auth })).statusCode).toBe(404);
  });

  it("says a plugin that does not run is not found", async () => {
    const answer = await get("/v1/plugins/never_released");
    expect(answer.statusCode).toBe(404);
    expectErrorShape(answer.body, "NOT_FOUND");
  });
});

describe("HTTP API: answers", () => {
  it("answers status, plugins, one plugin, asof, matrix and assign with the ledger's documents", async () => {
    const status = await f.ledger.status();
    expect((await get("/v1/status")).json()).toEqual(json(status));
    const momentum = status.plugins.find((p) => p.pluginId === "momentum");
    expect(momentum?.abTest?.salt).toMatch(/^[0-9a-f]{32}$/);
    expect((await get("/v1/plugins")).json()).toEqual(
      json({ position: status.position, items: status.plugins }),
    );
    expect((await get("/v1/plugins/momentum")).json()).toEqual(
      json({ position: status.position, plugin: momentum }),
    );
    expect((await get("/v1/asof?at=5")).json()).toEqual(json(await f.ledger.asOf(5)));
    expect((await get("/v1/matrix")).json()).toEqual(json(await f.ledger.matrix()));
    const units = ["BTCUSDT", "ETHUSDT", "acct:42"];
    const assigned = await get(
      `/v1/assign?plugin=momentum&${units.map((u) => `unit=${encodeURIComponent(u)}`).join("&")}`,
    );
    expect(assigned.json()).toEqual(json({ items: await f.ledger.assignMany("momentum", units) }));
    expect((await get("/v1/assign?plugin=momentum&unit=one&at=5")).json()).toEqual(
      json({ items: await f.ledger.assignMany("momentum", ["one"], 5) }),
    );
  });

  it("pages the audit backwards with nextBefore until null, missing nothing", async () => {
    const all = await f.ledger.audit({ limit: 1000 });
    const paged: unknown[] = [];
    let url = "/v1/audit?limit=3";
    for (;;) {
      const page = (await get(url)).json();
      paged.push(...page.items);
      if (page.nextBefore === null) break;
      url = `/v1/audit?limit=3&before=${page.nextBefore}`;
    }
    expect(paged).toEqual(json(all));
    const one = (await get("/v1/audit?plugin=grid_bot")).json();
    expect(one.items.map((a: { streamId: string }) => a.streamId)).toEqual([
      "plugin-grid_bot",
      "plugin-grid_bot",
    ]);
  });

  it("streams the events after a position as JSON lines, as `events` prints them", async () => {
    const answer = await get("/v1/events?after=2");
    expect(answer.headers["content-type"]).toMatch(/^application\/x-ndjson/);
    const lines = answer.body.trimEnd().split("\n");
    const events: unknown[] = [];
    for await (const batch of f.ledger.events(2)) events.push(...batch);
    expect(lines.map((l) => JSON.parse(l))).toEqual(json(events));
  });

  it("serves the timeline as JSON, CSV and PNG", async () => {
    const view = await f.ledger.timeline(["momentum"], { to: await f.ledger.head() });
    const head = await f.ledger.head();
    expect((await get(`/v1/timeline?plugin=momentum&to=${head}`)).json()).toEqual(
      json({ from: view.from, to: view.to, items: view.items }),
    );
    const csv = await get(`/v1/timeline?plugin=momentum&plugin=grid_bot&format=csv&to=${head}`);
    expect(csv.headers["content-type"]).toMatch(/^text\/csv/);
    expect(csv.body.split("\n")[0]).toContain("plugin");
    const png = await get("/v1/timeline?plugin=momentum&format=png&width=600");
    expect(png.headers["content-type"]).toBe("image/png");
    expect(png.rawPayload.subarray(1, 4).toString()).toBe("PNG");
  });

  it("tags answers with the head position and answers If-None-Match with 304 until the next event", async () => {
    const first = await get("/v1/plugins/momentum");
    const etag = first.headers.etag as string;
    expect(etag).toBe(`W/"${await f.ledger.head()}"`);
    for (const url of ["/v1/plugins/momentum", "/v1/status", "/v1/plugins/momentum/versions", "/v1/audit"]) {
      const again = await get(url, { ...auth, "if-none-match": etag });
      expect(again.statusCode, url).toBe(304);
      expect(again.body).toBe("");
    }
    expect((await get("/v1/status", { ...auth, "if-none-match": `"x", ${etag.slice(2)}` })).statusCode).toBe(
      304,
    );
    await f.ok(release("momentum", "1.3.0"));
    const after = await get("/v1/plugins/momentum/versions", { ...auth, "if-none-match": etag });
    expect(after.statusCode).toBe(200);
    expect(after.headers.etag).not.toBe(etag);
    expect(after.json().items.map((v: { version: string }) => v.version)).toContain("1.3.0");
  });

  it("publishes an OpenAPI 3.1 document generated from the routes' zod schemas", async () => {
    const doc = (await get("/v1/openapi.json")).json();
    expect(doc.openapi).toBe("3.1.0");
    for (const path of [
      "/v1/status",
      "/v1/plugins/{id}",
      "/v1/assign",
      "/v1/timeline",
      "/v1/changes",
      "/v1/audit",
      "/v1/checkpoint",
      "/v1/checkpoints/{size}",
      "/v1/plugins/{id}/diff",
    ]) {
      expect(doc.paths[path]?.get, path).toBeDefined();
    }
    const history = doc.paths["/v1/plugins/{id}/history"].get.parameters;
    expect(history.map((p: { name: string; in: string }) => `${p.in}:${p.name}`).sort()).toEqual([
      "path:id",
      "query:limit",
    ]);
    const id = history.find((p: { name: string }) => p.name === "id");
    expect(id.schema.pattern).toBe("^[a-z][a-z0-9_]{1,63}$");
    expect(doc.paths["/healthz"]).toBeUndefined();
  });
});

/** 50 kinds of bad parameters: each a 400 in the error shape, never a 500. */
const BAD: [string, string, Record<string, string>?][] = [
  ["plugin id with an upper-case letter", "/v1/plugins/Momentum"],
  ["plugin id starting with a digit", "/v1/plugins/9lives"],
  ["plugin id of one letter", "/v1/plugins/m"],
  ["plugin id too long", `/v1/plugins/${"a".repeat(65)}`],
  ["plugin id with a dash", "/v1/plugins/mo-mentum"],
  ["plugin id with a dot", "/v1/plugins/mo.mentum/versions"],
  ["plugin id with unicode", `/v1/plugins/${encodeURIComponent("mömentum")}/history`],
  ["plugin id with a NUL", "/v1/plugins/mo%00mentum"],
  ["plugin id with SQL", `/v1/plugins/${encodeURIComponent("x'; DROP TABLE events;--")}`],
  ["malformed percent-encoding", "/v1/plugins/%E0%A4%A"],
  ["history limit zero", "/v1/plugins/momentum/history?limit=0"],
  ["history limit negative", "/v1/plugins/momentum/history?limit=-1"],
  ["history limit huge", "/v1/plugins/momentum/history?limit=1000001"],
  ["history limit not a number", "/v1/plugins/momentum/history?limit=ten"],
  ["history limit a fraction", "/v1/plugins/momentum/history?limit=1.5"],
  ["history limit in exponent form", "/v1/plugins/momentum/history?limit=1e3"],
  ["history limit twice", "/v1/plugins/momentum/history?limit=1&limit=2"],
  ["history limit empty", "/v1/plugins/momentum/history?limit="],
  ["unknown query parameter", "/v1/status?verbose=1"],
  ["misspelt query parameter", "/v1/plugins/momentum/history?limt=5"],
  ["asof without a point", "/v1/asof"],
  ["asof of a word", "/v1/asof?at=yesterday"],
  ["asof of an impossible date", "/v1/asof?at=2024-13-45"],
  ["asof of a negative position", "/v1/asof?at=-5"],
  ["asof past 2^53", "/v1/asof?at=9007199254740993"],
  ["asof of a huge text", `/v1/asof?at=${"9".repeat(100)}`],
  ["asof twice", "/v1/asof?at=1&at=2"],
  ["assign without units", "/v1/assign?plugin=momentum"],
  ["assign without a plugin", "/v1/assign?unit=a"],
  ["assign with an empty unit", "/v1/assign?plugin=momentum&unit="],
  ["assign with a unit too long", `/v1/assign?plugin=momentum&unit=${"u".repeat(257)}`],
  [
    "assign of too many units",
    `/v1/assign?plugin=momentum&${Array.from({ length: 1001 }, (_, i) => `unit=${i}`).join("&")}`,
  ],
  ["assign with a bad plugin id", "/v1/assign?plugin=BAD&unit=a"],
  ["assign at a bad point", "/v1/assign?plugin=momentum&unit=a&at=soon"],
  ["timeline without a plugin", "/v1/timeline"],
  ["timeline with a bad plugin", "/v1/timeline?plugin=X"],
  ["timeline in an unknown format", "/v1/timeline?plugin=momentum&format=gif"],
  ["timeline in table format (CLI only)", "/v1/timeline?plugin=momentum&format=table"],
  ["timeline chart too narrow", "/v1/timeline?plugin=momentum&format=png&width=10"],
  ["timeline chart too wide", "/v1/timeline?plugin=momentum&format=png&width=99999"],
  ["timeline window ending before it starts", "/v1/timeline?plugin=momentum&from=5&to=2"],
  ["timeline from a bad point", "/v1/timeline?plugin=momentum&from=then"],
  ["audit limit zero", "/v1/audit?limit=0"],
  ["audit before zero", "/v1/audit?before=0"],
  ["audit before a word", "/v1/audit?before=last"],
  ["audit of a bad plugin id", "/v1/audit?plugin=A"],
  ["events after a negative position", "/v1/events?after=-1"],
  ["events after a word", "/v1/events?after=start"],
  ["changes after a word", "/v1/changes?after=start"],
  ["changes with a bad Last-Event-ID", "/v1/changes", { "last-event-id": "abc" }],
  ["changes with a negative Last-Event-ID", "/v1/changes", { "last-event-id": "-3" }],
  ["diff without versions", "/v1/plugins/momentum/diff"],
  ["diff without a target", "/v1/plugins/momentum/diff?from=1.0.0"],
  ["diff from a v-prefixed version", "/v1/plugins/momentum/diff?from=v1.0.0&to=1.1.0"],
  ["diff to a partial version", "/v1/plugins/momentum/diff?from=1.0.0&to=1.1"],
  ["diff to a range", "/v1/plugins/momentum/diff?from=1.0.0&to=%5E1.1.0"],
  ["diff of a bad plugin id", "/v1/plugins/Momentum/diff?from=1.0.0&to=1.1.0"],
  ["diff to a version too long", `/v1/plugins/momentum/diff?from=1.0.0&to=1.0.0-${"a".repeat(300)}`],
  ["checkpoint in an unknown format", "/v1/checkpoint?format=xml"],
  ["checkpoint with an unknown parameter", "/v1/checkpoint?size=3"],
  ["checkpoint of a negative size", "/v1/checkpoints/-1"],
  ["checkpoint of a word", "/v1/checkpoints/latest"],
  ["checkpoint of a fractional size", "/v1/checkpoints/1.5"],
  ["checkpoint of a size past 2^53", "/v1/checkpoints/9007199254740993"],
];

describe("HTTP API: diff", () => {
  it("answers the diff of two released versions as the ledger does, 404 for one not released", async () => {
    const diff = await f.ledger.diff("momentum", "1.0.0", "1.2.0");
    if (!diff.ok) throw new Error("expected a diff");
    const answer = await get("/v1/plugins/momentum/diff?from=1.0.0&to=1.2.0");
    expect(answer.statusCode).toBe(200);
    expect(answer.json()).toEqual(json(diff.diff));
    expect(answer.json().between.map((v: { version: string }) => v.version)).toEqual(["1.1.0", "1.2.0"]);
    expect(answer.headers.etag).toBe(`W/"${await f.ledger.head()}"`);
    const cached = await get("/v1/plugins/momentum/diff?from=1.0.0&to=1.2.0", {
      ...auth,
      "if-none-match": answer.headers.etag as string,
    });
    expect(cached.statusCode).toBe(304);

    const missing = await get("/v1/plugins/momentum/diff?from=1.0.0&to=9.9.9");
    expect(missing.statusCode).toBe(404);
    expectErrorShape(missing.body, "NOT_FOUND");
    expect(missing.json().error.message).toMatch(/9\.9\.9/);
    const unknownPlugin = await get("/v1/plugins/never_released/diff?from=1.0.0&to=1.1.0");
    expect(unknownPlugin.statusCode).toBe(404);
    expectErrorShape(unknownPlugin.body, "NOT_FOUND");
  });
});

describe("HTTP API: checkpoints", () => {
  const signer = signerFromSeed("plugin-ledger/http-test", Buffer.alloc(32, 9));

  it("answers 404 in the error shape before any checkpoint is signed", async () => {
    for (const url of ["/v1/checkpoint", "/v1/checkpoint?format=json", "/v1/checkpoints/1"]) {
      const answer = await get(url);
      expect(answer.statusCode, url).toBe(404);
      expectErrorShape(answer.body, "NOT_FOUND");
    }
  });

  it("serves the latest and a given size as the signed note, or as JSON when asked", async () => {
    const signing = createLedger(f.test.db, { schema: f.test.schema, logger: testLogger, signer });
    const first = await signing.checkpoint();
    await f.ok(release("grid_bot", "0.9.1"));
    const latest = await signing.checkpoint();
    expect(latest.size).toBe(first.size + 1);

    const note = await get("/v1/checkpoint");
    expect(note.statusCode).toBe(200);
    expect(note.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(note.body).toBe(latest.note);
    expect(note.body.split("\n").slice(0, 3)).toEqual([latest.origin, String(latest.size), latest.rootHash]);
    const older = await get(`/v1/checkpoints/${first.size}`);
    expect(older.body).toBe(first.note);
    expect(older.body).toBe((await f.ledger.checkpointAt(first.size))?.note);

    const asJson = json(latest);
    expect((await get("/v1/checkpoint?format=json")).json()).toEqual(asJson);
    expect(asJson).toMatchObject({ size: latest.size, rootHash: latest.rootHash, note: latest.note });
    for (const accept of ["application/json", "text/html, application/json;q=0.5", "APPLICATION/JSON"]) {
      const answer = await get("/v1/checkpoint", { ...auth, accept });
      expect(answer.headers["content-type"], accept).toMatch(/^application\/json/);
      expect(answer.json()).toEqual(asJson);
    }
    for (const accept of ["text/plain", "*/*", "application/json;q=0", "text/html"]) {
      expect((await get("/v1/checkpoint", { ...auth, accept })).body, accept).toBe(latest.note);
    }
    // The query wins over the header.
    expect((await get("/v1/checkpoint?format=note", { ...auth, accept: "application/json" })).body).toBe(
      latest.note,
    );
    expect((await get(`/v1/checkpoints/${first.size}?format=json`)).json()).toEqual(json(first));
    const none = await get(`/v1/checkpoints/${latest.size + 100}`);
    expect(none.statusCode).toBe(404);
    expectErrorShape(none.body, "NOT_FOUND");
  });

  it("tags a checkpoint by its size and representation, and answers 304 until a new one is signed", async () => {
    const first = await get("/v1/checkpoint");
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^W\/"checkpoint-\d+-note"$/);
    expect(first.headers.vary).toMatch(/accept/i);
    expect((await get("/v1/checkpoint", { ...auth, "if-none-match": etag })).statusCode).toBe(304);
    const asJson = await get("/v1/checkpoint?format=json", { ...auth, "if-none-match": etag });
    expect(asJson.statusCode).toBe(200);
    // A checkpoint signed at a new head is a new answer, as the head's ETag would not tell.
    await f.ok(release("grid_bot", "0.9.2"));
    await createLedger(f.test.db, { schema: f.test.schema, logger: testLogger, signer }).checkpoint();
    const renewed = await get("/v1/checkpoint", { ...auth, "if-none-match": etag });
    expect(renewed.statusCode).toBe(200);
    expect(renewed.headers.etag).not.toBe(etag);
  });
});

describe("HTTP API: bad parameters", () => {
  it.each(BAD)("%s: 400 in the error shape", async (_kind, url, headers) => {
    const answer = await get(url, { ...auth, ...headers });
    expect(answer.statusCode).toBe(400);
    expectErrorShape(answer.body);
  });

  it("has 50 kinds of them", () => {
    expect(new Set(BAD.map(([kind]) => kind)).size).toBeGreaterThanOrEqual(50);
  });

  // Fuzzed: whatever text goes in a path segment, a query value or a header, the API answers a
  // 2xx/3xx, a 400 or a 404, always in its error shape, and never a 500.
  const routes = [
    (x: string) => `/v1/plugins/${x}`,
    (x: string) => `/v1/plugins/${x}/versions`,
    (x: string) => `/v1/plugins/${x}/history?limit=2`,
    (x: string) => `/v1/plugins/momentum/history?limit=${x}`,
    (x: string) => `/v1/asof?at=${x}`,
    (x: string) => `/v1/assign?plugin=momentum&unit=${x}&unit=b`,
    (x: string) => `/v1/assign?plugin=${x}&unit=a`,
    (x: string) => `/v1/assign?plugin=momentum&unit=a&at=${x}`,
    (x: string) => `/v1/timeline?plugin=momentum&from=${x}`,
    (x: string) => `/v1/timeline?plugin=${x}&format=csv`,
    (x: string) => `/v1/audit?before=${x}&limit=2`,
    (x: string) => `/v1/audit?limit=${x}`,
    (x: string) => `/v1/events?after=${x}`,
    (x: string) => `/v1/status?${x}=1`,
    (x: string) => `/v1/plugins/momentum/diff?from=1.0.0&to=${x}`,
    (x: string) => `/v1/plugins/${x}/diff?from=1.0.0&to=1.1.0`,
    (x: string) => `/v1/checkpoints/${x}`,
    (x: string) => `/v1/checkpoint?format=${x}`,
  ];
  const text = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 20 }),
    fc.integer({ min: -1e6, max: 1e16 }).map(String),
    fc.constantFrom(
      "",
      "0",
      "-0",
      "NaN",
      "Infinity",
      "1e400",
      "null",
      "[]",
      "{}",
      "2024-02-30",
      "%",
      "%%",
      "9".repeat(30),
    ),
  );
  const encodings = fc.constantFrom(
    (x: string) => encodeURIComponent(x),
    (x: string) => x.replace(/[#?/\s]/g, ""),
  );

  it("never answers 500 to fuzzed path and query parameters", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: routes.length - 1 }),
        text,
        encodings,
        async (route, value, encode) => {
          const url = (routes[route] as (x: string) => string)(encode(value));
          const answer = await get(url);
          expect([200, 304, 400, 404], url).toContain(answer.statusCode);
          if (answer.statusCode >= 400) expectErrorShape(answer.body);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("never answers 500 to fuzzed headers", async () => {
    const headerValue = fc.string({ maxLength: 60 }).map((s) => s.replace(/[^\x20-\x7e]/g, ""));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("authorization", "if-none-match", "last-event-id", "accept", "content-type"),
        headerValue,
        fc.boolean(),
        async (name, value, checkpoint) => {
          // A valid Last-Event-ID would open a stream that never ends: those are the SSE tests'.
          const streams = name === "last-event-id" && !/^[\s\d]*\d[\s\d]*$/.test(value);
          // The checkpoint reads its Accept header itself: fuzzed too (a 404 before one is signed).
          const target = streams ? "/v1/changes" : checkpoint ? "/v1/checkpoint" : "/v1/status";
          const headers = name === "authorization" ? { authorization: value } : { ...auth, [name]: value };
          const answer = await get(target, headers);
          expect([200, 304, 400, 401, 404], `${name}: ${value}`).toContain(answer.statusCode);
          if (answer.statusCode >= 400) expectErrorShape(answer.body);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("HTTP API: readiness", () => {
  it("is not ready while a projection is behind the head, and says which", async () => {
    const checkpoints = `"${f.test.schema}".projection_checkpoints`;
    await f.test.db.pool.query(
      `UPDATE ${checkpoints} SET position = position - 1 WHERE projection = 'catalog'`,
    );
    try {
      const answer = await get("/readyz", {});
      expect(answer.statusCode).toBe(503);
      expectErrorShape(answer.body, "NOT_READY");
      expect(answer.json().error.message).toMatch(/catalog/);
    } finally {
      await f.test.db.pool.query(
        `UPDATE ${checkpoints} SET position = position + 1 WHERE projection = 'catalog'`,
      );
    }
    expect((await get("/readyz", {})).statusCode).toBe(200);
  });
});
