import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

/**
 * Runs `module` in a fresh Node process (the same tsx loader, inherited through execArgv), sends it
 * `request` over IPC and resolves with the one message it answers. A fresh process is how a
 * measurement gets a peak RSS of its own. The child is killed if `signal` aborts.
 */
export function runInChild<T>(module: URL, request: unknown, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(module), [], { signal, stdio: ["ignore", "inherit", "inherit", "ipc"] });
    let answer: ChildAnswer<T> | undefined;
    child.on("message", (message) => {
      answer = message as ChildAnswer<T>;
    });
    child.on("error", (error) => {
      if (error.name !== "AbortError") reject(error);
    });
    child.on("exit", (code, exitSignal) => {
      if (signal.aborted) reject(signal.reason);
      else if (answer?.ok) resolve(answer.result);
      else if (answer) reject(new Error(`${fileURLToPath(module)}: ${answer.error}`));
      else reject(new Error(`${fileURLToPath(module)} exited with ${exitSignal ?? code} and no answer`));
    });
    child.send(request as object);
  });
}

export type ChildAnswer<T> = { ok: true; result: T } | { ok: false; error: string };

/** The child's side: answers the first request with `work`'s result (or its error), then exits. */
export function serveOneRequest<Req, T>(work: (request: Req) => Promise<T>): void {
  process.once("message", async (request) => {
    let answer: ChildAnswer<T>;
    try {
      answer = { ok: true, result: await work(request as Req) };
    } catch (error) {
      answer = { ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    // Exits once the answer is out rather than when nothing is left to wait for: a handle left
    // behind must not hold the run (pg's query_timeout timer of the raw reader's cursor query,
    // which pg never clears, once held every raw read's process 32 s past its answer).
    process.send?.(answer, (error: Error | null) => process.exit(error ? 1 : 0));
  });
}
