import net from "node:net";

/**
 * A loopback TCP proxy in front of a database, so a test can inject the faults a real network
 * and server produce: every connection cut, a server that accepts and never answers, a server
 * that is down (connections refused) and comes back.
 */
export type TcpProxy = {
  readonly host: string;
  readonly port: number;
  /** `url` with its host and port replaced by the proxy's. */
  urlFor(url: string): string;
  /** Destroy every open connection (both sides); new connections are still forwarded. */
  cut(): void;
  /** Stop forwarding: open connections and new ones are held, and nothing is answered. */
  stall(): void;
  /** Stop listening (connections are refused) and cut every open one, as a server that went down. */
  refuse(): Promise<void>;
  /** Back to forwarding; connections held by `stall` are cut, since their streams lost data. */
  restore(): Promise<void>;
  close(): Promise<void>;
  /** Connections accepted so far. */
  readonly accepted: number;
};

type Pair = { client: net.Socket; upstream?: net.Socket };

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: "forward" | "stall" | "refuse" = "forward";
  let accepted = 0;
  const pairs = new Set<Pair>();
  const server = net.createServer((client) => {
    accepted++;
    const pair: Pair = { client };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      pair.upstream?.destroy();
    };
    client.on("error", drop);
    client.on("close", drop);
    if (mode !== "forward") return; // held: accepted, never answered
    const upstream = net.connect(target.port, target.host);
    pair.upstream = upstream;
    upstream.on("error", drop);
    upstream.on("close", drop);
    // Data moves only while forwarding; during a stall it is swallowed and the pair is cut on restore.
    client.on("data", (chunk) => {
      if (mode === "forward") upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (mode === "forward") client.write(chunk);
    });
  });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  let port = 0;
  await listen();
  port = (server.address() as net.AddressInfo).port;

  const cutAll = () => {
    for (const pair of [...pairs]) {
      pairs.delete(pair);
      pair.client.destroy();
      pair.upstream?.destroy();
    }
  };
  return {
    host: "127.0.0.1",
    port,
    get accepted() {
      return accepted;
    },
    urlFor(url: string) {
      const parsed = new URL(url);
      parsed.hostname = "127.0.0.1";
      parsed.port = String(port);
      return parsed.toString();
    },
    cut: cutAll,
    stall() {
      mode = "stall";
    },
    async refuse() {
      if (mode === "refuse") return;
      mode = "refuse";
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      cutAll();
      await closed;
    },
    async restore() {
      const was = mode;
      mode = "forward";
      if (was === "stall") cutAll();
      if (was === "refuse") await listen();
    },
    async close() {
      mode = "refuse";
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      cutAll();
      await closed;
    },
  };
}
