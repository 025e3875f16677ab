import { connect, type Socket } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketServer } from "@electric-sql/pglite-socket";
import { describe, expect, it } from "vitest";
import { wholeExchanges } from "../../src/store/pglite-exchanges.ts";
import { freshDataDir } from "../support/databases.ts";

/** PostgreSQL wire messages, written by hand so the test decides exactly when each one is sent. */
const cstring = (text: string) => Buffer.from(`${text}\0`);
const int16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
function message(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(type, 0);
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}
function startup(): Buffer {
  const body = Buffer.concat([
    cstring("user"),
    cstring("postgres"),
    cstring("database"),
    cstring("postgres"),
    cstring(""),
  ]);
  const head = Buffer.alloc(8);
  head.writeInt32BE(body.length + 8, 0);
  head.writeInt32BE(196608, 4);
  return Buffer.concat([head, body]);
}
const parse = (sql: string) => message("P", cstring(""), cstring(sql), int16(0));
const bind = () => message("B", cstring(""), cstring(""), int16(0), int16(0), int16(0));
const execute = () => message("E", cstring(""), Buffer.alloc(4));
const flush = () => message("H");
const sync = () => message("S");

/** A raw connection that keeps everything the server says, and can wait for a reply byte. */
function rawConnection(socketPath: string) {
  const socket: Socket = connect(socketPath);
  let received = Buffer.alloc(0);
  socket.on("data", (data) => {
    received = Buffer.concat([received, data]);
  });
  return {
    send: (...messages: Buffer[]) => socket.write(Buffer.concat(messages)),
    received: () => received.toString("latin1"),
    /** Waits until the server has sent `count` messages of this type (e.g. "Z", ReadyForQuery). */
    async until(type: string, count = 1) {
      while (replies(received, type) < count) await sleep(5);
    },
    end: () => socket.destroy(),
  };
}

/** How many messages of a type the server sent (the start-up reply is typed messages too). */
function replies(buffer: Buffer, type: string): number {
  let n = 0;
  for (let at = 0; at + 5 <= buffer.length; at += 1 + buffer.readInt32BE(at + 1))
    if (buffer[at] === type.charCodeAt(0)) n++;
  return n;
}

describe("PGlite served to several connections", () => {
  it("runs one connection's extended-protocol exchange whole: another's Parse cannot replace its statement", async () => {
    const dir = freshDataDir();
    const db = await PGlite.create({ dataDir: path.join(dir, "pgdata") });
    const socketPath = path.join(dir, "s.sock");
    const server = new PGLiteSocketServer({ db: wholeExchanges(db), path: socketPath, maxConnections: 8 });
    await server.start();
    const a = rawConnection(socketPath);
    const b = rawConnection(socketPath);
    try {
      a.send(startup());
      b.send(startup());
      await a.until("Z");
      await b.until("Z");
      // A parses its statement and waits (ParseComplete back), the exchange still open.
      a.send(parse("SELECT 'answer-of-a' AS who"), flush());
      await a.until("1");
      // B runs a whole exchange of its own meanwhile: it must wait for A's Sync.
      b.send(parse("SELECT 'answer-of-b' AS who"), bind(), execute(), sync());
      while (replies(Buffer.from(b.received(), "latin1"), "Z") < 2 && server.getStats().queuedQueries === 0)
        await sleep(5);
      a.send(bind(), execute(), sync());
      await a.until("Z", 2);
      await b.until("Z", 2);
      expect(a.received()).toContain("answer-of-a");
      expect(a.received()).not.toContain("answer-of-b");
      expect(b.received()).toContain("answer-of-b");
    } finally {
      a.end();
      b.end();
      await server.stop();
      await db.close();
    }
  });
});
