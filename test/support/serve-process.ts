import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { ROOT } from "./cli.ts";
import { TOKEN } from "./http-api.ts";

export type ServeProcess = {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** GET with the token, the parsed JSON or the text. */
  get(pathAndQuery: string): Promise<{ status: number; body: string }>;
  /** SIGTERM, and the exit code. */
  stop(): Promise<number | null>;
};

/**
 * `plugin-ledger serve --port 0` (or other arguments: none is `npm start`) as a process, on the
 * given ledger; resolves once it listens.
 */
export function startServe(
  env: Record<string, string>,
  args: string[] = ["serve", "--port", "0"],
): Promise<ServeProcess> {
  const child = spawn(process.execPath, [path.join(ROOT, "bin/plugin-ledger.js"), ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      LOG_LEVEL: "warn",
      HTTP_TOKENS: TOKEN,
      ...env,
    },
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  return new Promise((resolve, reject) => {
    exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const url = /^listening on (http:\/\/\S+)$/.exec(line)?.[1];
      if (url === undefined) return;
      resolve({
        child,
        url,
        async get(pathAndQuery) {
          const response = await fetch(`${url}${pathAndQuery}`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          });
          return { status: response.status, body: await response.text() };
        },
        async stop() {
          child.kill("SIGTERM");
          return exited;
        },
      });
    });
  });
}
