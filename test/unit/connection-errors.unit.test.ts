import pg from "pg";
import { describe, expect, it } from "vitest";
import { DatabaseUnavailableError, isConnectionLost } from "../../src/store/connection-errors.ts";

function socketError(code: string, message = `connect ${code} 127.0.0.1:5432`): Error {
  return Object.assign(new Error(message), { code, errno: -1, syscall: "connect" });
}

function serverError(code: string, message: string): pg.DatabaseError {
  const error = new pg.DatabaseError(message, message.length, "error");
  error.code = code;
  return error;
}

describe("isConnectionLost", () => {
  it.each([
    ["a reset socket", socketError("ECONNRESET", "read ECONNRESET")],
    ["a refused connection", socketError("ECONNREFUSED")],
    ["a write to a closed socket", socketError("EPIPE", "write EPIPE")],
    ["a socket timeout", socketError("ETIMEDOUT")],
    ["a missing Unix socket", socketError("ENOENT", "connect ENOENT /tmp/x/.s.PGSQL.5432")],
    ["pg's end of stream", new Error("Connection terminated unexpectedly")],
    ["pg's connect timeout", new Error("Connection terminated due to connection timeout")],
    ["a client connect timeout", new Error("timeout expired")],
    ["the pool's connect timeout", new Error("timeout exceeded when trying to connect")],
    ["pg's query_timeout", new Error("Query read timeout")],
    ["a client after its error", new Error("Client has encountered a connection error and is not queryable")],
    ["admin shutdown", serverError("57P01", "terminating connection due to administrator command")],
    [
      "crash shutdown",
      serverError("57P02", "terminating connection because of crash of another server process"),
    ],
    ["starting up", serverError("57P03", "the database system is starting up")],
    ["too many connections", serverError("53300", "sorry, too many clients already")],
    ["a connection exception", serverError("08006", "connection failure")],
    ["a protocol violation", serverError("08P01", "protocol violation")],
    [
      "localhost's two addresses refused",
      Object.assign(new AggregateError([socketError("ECONNREFUSED"), socketError("ECONNREFUSED")], ""), {
        code: "ECONNREFUSED",
      }),
    ],
    ["a wrapped cause", new Error("migration failed", { cause: socketError("ECONNRESET") })],
    ["an unavailable error itself", new DatabaseUnavailableError("postgres://db/x", new Error("gone"))],
  ])("is true for %s", (_name, error) => {
    expect(isConnectionLost(error)).toBe(true);
  });

  it.each([
    ["a unique violation", serverError("23505", "duplicate key value violates unique constraint")],
    ["a syntax error", serverError("42601", "syntax error at or near")],
    [
      "a statement timeout (the server answered)",
      serverError("57014", "canceling statement due to statement timeout"),
    ],
    ["a serialization failure", serverError("40001", "could not serialize access")],
    [
      "a server error whose text mentions a connection",
      serverError("P0001", "connection terminated by rule"),
    ],
    ["a plain error", new Error("something else")],
    ["a string", "ECONNRESET"],
    ["null", null],
    ["undefined", undefined],
    ["a number", 57],
    [
      "a cycle of causes",
      (() => {
        const a = new Error("a") as Error & { cause?: unknown };
        a.cause = a;
        return a;
      })(),
    ],
  ])("is false for %s", (_name, error) => {
    expect(isConnectionLost(error)).toBe(false);
  });
});

describe("DatabaseUnavailableError", () => {
  it("is one line naming the database, the cause and what to check", () => {
    const error = new DatabaseUnavailableError(
      "postgres://ledger:***@db:5432/ledger",
      new Error("Connection terminated\nunexpectedly"),
    );
    expect(error.message).toBe(
      "cannot reach the ledger database at postgres://ledger:***@db:5432/ledger: Connection terminated unexpectedly; check DATABASE_URL and that the server runs",
    );
    expect(error.message).not.toContain("\n");
  });

  it("names the socket error code and the folder of an embedded ledger", () => {
    const error = new DatabaseUnavailableError(
      "/srv/.ledger",
      socketError("ECONNREFUSED", "connect failed"),
      true,
    );
    expect(error.message).toBe(
      "cannot reach the ledger database at /srv/.ledger: connect failed (ECONNREFUSED); check LEDGER_DATA_DIR and that its owning process is not stopped",
    );
  });

  it("describes an AggregateError by its first error", () => {
    const error = new DatabaseUnavailableError(
      "postgres://h/d",
      new AggregateError([socketError("ECONNREFUSED")], ""),
    );
    expect(error.message).toContain(": connect ECONNREFUSED 127.0.0.1:5432;");
  });
});
