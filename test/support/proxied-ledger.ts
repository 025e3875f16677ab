import { type DatabaseTimeouts, type FeedOptions, type Ledger, openLedger } from "../../src/ledger/index.ts";
import { openServerLedger, type TestDatabase, testLogger } from "./databases.ts";
import { startTcpProxy, type TcpProxy } from "./tcp-proxy.ts";

/**
 * A ledger on a fresh server test database that reaches it only through a loopback proxy, so a
 * test can cut, refuse or stall its connections while `direct` (and any writer on it) is untouched.
 */
export type ProxiedLedger = {
  direct: TestDatabase;
  proxy: TcpProxy;
  ledger: Ledger;
  /** The ledger, then the proxy, then the database. */
  close(): Promise<void>;
};

export async function openProxiedLedger(options: {
  timeouts: DatabaseTimeouts;
  feed?: FeedOptions;
}): Promise<ProxiedLedger> {
  const direct = await openServerLedger();
  let proxy: TcpProxy | undefined;
  try {
    const url = direct.env.DATABASE_URL as string;
    const target = new URL(url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const ledger = await openLedger({
      databaseUrl: proxy.urlFor(url),
      dataDir: "unused",
      schema: direct.schema,
      poolSize: 4,
      logger: testLogger,
      timeouts: options.timeouts,
      feed: options.feed,
    });
    const opened = proxy;
    return {
      direct,
      proxy,
      ledger,
      async close() {
        await ledger.close();
        await opened.close();
        await direct.close();
      },
    };
  } catch (error) {
    await proxy?.close();
    await direct.close();
    throw error;
  }
}
