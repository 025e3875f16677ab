import http from "node:http";

/**
 * A lean SSE client for the bench: it only notes, per position, when its frame arrived
 * (performance.now()), and parses nothing else.
 */
export type SseListener = { arrived: Map<number, number>; opened: Promise<void>; close(): void };

export function listenSse(url: string, token: string, onFrame?: (position: number) => void): SseListener {
  const arrived = new Map<number, number>();
  let request: http.ClientRequest | undefined;
  const opened = new Promise<void>((resolve, reject) => {
    request = http.get(
      `${url}/v1/changes`,
      { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" }, agent: false },
      (response) => {
        if (response.statusCode !== 200) reject(new Error(`/v1/changes answered ${response.statusCode}`));
        resolve();
        let rest = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          const now = performance.now();
          const text = rest + chunk;
          const cut = text.lastIndexOf("\n");
          rest = text.slice(cut + 1);
          for (const match of text.slice(0, cut).matchAll(/^id: (\d+)$/gm)) {
            const position = Number(match[1]);
            arrived.set(position, now);
            onFrame?.(position);
          }
        });
        response.on("error", () => {});
      },
    );
    request.on("error", reject);
  });
  return { arrived, opened, close: () => request?.destroy() };
}
