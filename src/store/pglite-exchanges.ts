import type { PGlite } from "@electric-sql/pglite";

/**
 * PGlite has one backend session, and the socket server feeds it the protocol messages of all its
 * connections one message at a time, keeping a connection's turn only while a transaction is open.
 * Outside a transaction the extended protocol breaks then: one connection's Parse, another's
 * Parse, the first one's Bind ("unnamed prepared statement does not exist"), or a reply read by
 * the wrong connection. The server asks the database `isInTransaction()` to decide whose turn it
 * is; this view of the database also answers true while the connection that sent the last message
 * is inside an exchange (from its first Parse/Bind/Describe/Execute/Close/Flush up to its Sync), so
 * each exchange runs whole. A connection that leaves mid-exchange is rolled back by the server,
 * which ends the exchange here too.
 */
export function wholeExchanges(db: PGlite): PGlite {
  let open = false;
  return new Proxy(db, {
    get(target, property) {
      if (property === "isInTransaction") return () => open || target.isInTransaction();
      if (property === "execProtocolRawStream") {
        return (message: Uint8Array, options: Parameters<PGlite["execProtocolRawStream"]>[1]) => {
          open = opensExchange(message[0]);
          return target.execProtocolRawStream(message, options);
        };
      }
      if (property === "exec") {
        return (query: string, options?: Parameters<PGlite["exec"]>[1]) => {
          open = false;
          return target.exec(query, options);
        };
      }
      // The target as receiver: PGlite's getters read its private fields, which a proxy lacks.
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

// Extended-protocol messages that leave the backend expecting more of the same exchange.
const EXCHANGE = new Set(["P", "B", "D", "E", "C", "H"].map((letter) => letter.charCodeAt(0)));

/** Sync ('S'), a simple Query ('Q'), Terminate ('X') and the start-up message end or need no exchange. */
function opensExchange(type: number | undefined): boolean {
  return type !== undefined && EXCHANGE.has(type);
}
