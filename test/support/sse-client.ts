import http from "node:http";

export type SseFrame = { id?: string; event?: string; data?: string };

/** A Server-Sent Events client on node:http: the frames and comment lines it received, and whether the stream ended. */
export type SseClient = {
  status: number;
  frames: SseFrame[];
  comments: string[];
  ended: Promise<void>;
  close(): void;
};

export function connectSse(url: string, headers: Record<string, string>): Promise<SseClient> {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers: { accept: "text/event-stream", ...headers } }, (response) => {
      const frames: SseFrame[] = [];
      const comments: string[] = [];
      let buffer = "";
      let frame: SseFrame = {};
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        buffer += chunk;
        for (let cut = buffer.indexOf("\n"); cut >= 0; cut = buffer.indexOf("\n")) {
          const line = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 1);
          if (line === "") {
            if (frame.data !== undefined) frames.push(frame);
            frame = {};
          } else if (line.startsWith(":")) comments.push(line.slice(1).trim());
          else {
            const colon = line.indexOf(":");
            const field = line.slice(0, colon) as keyof SseFrame | "retry";
            const value = line.slice(colon + 1).replace(/^ /, "");
            if (field !== "retry") frame[field] = value;
          }
        }
      });
      const ended = new Promise<void>((done) => {
        response.on("end", done);
        response.on("close", done);
      });
      resolve({
        status: response.statusCode ?? 0,
        frames,
        comments,
        ended,
        close: () => request.destroy(),
      });
    });
    request.on("error", reject);
  });
}

/** The positions of the frames received, in order. */
export const positionsOf = (client: SseClient) => client.frames.map((f) => Number(f.id));
