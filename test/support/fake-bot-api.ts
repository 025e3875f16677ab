import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Update } from "telegraf/types";

/**
 * A Telegram Bot API server on loopback, enough for a telegraf bot to run against it offline:
 * getMe, getUpdates (long polling), sendMessage, editMessageText, answerCallbackQuery,
 * setMyCommands, deleteWebhook, setWebhook, and sendPhoto / sendDocument as multipart uploads.
 * It records every call, and can be told to fail the next calls of a method (a 429 by default)
 * or to cut their connections.
 *
 * Every pushed update is handed out exactly once, by the next getUpdates; pushing the same
 * update again is a redelivery, as Telegram does when a bot did not confirm it.
 */
export type ApiCall = {
  method: string;
  // biome-ignore lint/suspicious/noExplicitAny: the Bot API's payloads, read loosely by the tests.
  payload: Record<string, any>;
  /** performance.now() when the request arrived. */
  at: number;
  /** The error answered instead of a result, if the call was told to fail. */
  failed?: ApiError;
  /** A multipart call's uploaded files, by field name (`photo`, `document`). */
  files?: Record<string, UploadedFile>;
  /** The id of the message the call sent or edited, as answered. */
  messageId?: number;
};

export type UploadedFile = { filename: string; size: number; bytes: Buffer };

export type ApiError = {
  ok: false;
  error_code: number;
  description: string;
  parameters?: { retry_after?: number };
};

export type FakeUser = { id: number; first_name: string; username?: string };

export const TOO_MANY_REQUESTS: ApiError = {
  ok: false,
  error_code: 429,
  description: "Too Many Requests: retry after 1",
  parameters: { retry_after: 1 },
};

export const FORBIDDEN: ApiError = {
  ok: false,
  error_code: 403,
  description: "Forbidden: bot was kicked from the group chat",
};

export const BOT_USER = {
  id: 900_000_001,
  is_bot: true,
  first_name: "Ledger",
  username: "ledger_test_bot",
  can_join_groups: true,
  can_read_all_group_messages: false,
  supports_inline_queries: false,
};

/** Polls are answered empty after this long, so that a stopping bot is never held up. */
const POLL_HOLD_MS = 300;

type Waiter = { test: (call: ApiCall) => boolean; resolve: (call: ApiCall) => void };

export class FakeBotApi {
  readonly token = "123456:TEST-fake-token";
  readonly calls: ApiCall[] = [];
  /** performance.now() at which each update id was last handed out. */
  readonly deliveredAt = new Map<number, number>();
  private queue: Update[] = [];
  private polls: Array<() => void> = [];
  private pollCount = 0;
  /** deliver() callers: resolved by the first poll after the one that handed their update out. */
  private handled: Array<{ update: Update; handedIn?: number; resolve: () => void }> = [];
  private failures = new Map<string, ApiError[]>();
  /** Chats whose every sendMessage is answered with an error (a group the bot was removed from). */
  private failingChats = new Map<number, ApiError>();
  /** Calls recorded as made (Telegram did the work) and never answered, as if the caller died. */
  private holds: Array<{ test: (call: ApiCall) => boolean; resolve: (call: ApiCall) => void }> = [];
  private drops = new Map<string, number>();
  private waiters: Waiter[] = [];
  private nextMessageId = 1;
  private nextUpdateId = 1;
  private server: http.Server;

  private constructor() {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async start(): Promise<FakeBotApi> {
    const api = new FakeBotApi();
    await new Promise<void>((resolve) => api.server.listen(0, "127.0.0.1", resolve));
    return api;
  }

  /** TELEGRAM_API_ROOT for a bot that should talk to this server. */
  get url(): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    for (const release of this.polls.splice(0)) release();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next `times` calls of `method` are answered with `error` instead of a result. */
  failNext(method: string, times = 1, error: ApiError = TOO_MANY_REQUESTS): void {
    this.failures.set(method, [...(this.failures.get(method) ?? []), ...Array(times).fill(error)]);
  }

  /** Every sendMessage to `chatId` is answered with `error` until `failChat(chatId, null)`. */
  failChat(chatId: number, error: ApiError | null = FORBIDDEN): void {
    if (error) this.failingChats.set(chatId, error);
    else this.failingChats.delete(chatId);
  }

  /**
   * The next call of `method` that passes `test` is carried out (a sendMessage is posted, and
   * recorded as such) but never answered: the caller never learns that it succeeded. Resolves
   * with the call when it comes.
   */
  holdNext(
    method: string,
    test: (call: ApiCall) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<ApiCall> {
    const matches = (call: ApiCall) => call.method === method && test(call);
    const held = new Promise<ApiCall>((resolve) => this.holds.push({ test: matches, resolve }));
    return withTimeout(held, timeoutMs, `no ${method} call to hold came`);
  }

  /**
   * The next `times` calls of `method` get no answer at all: the connection is cut, as a network
   * blip would. Recorded as failed with error_code 0.
   */
  dropNext(method: string, times = 1): void {
    this.drops.set(method, (this.drops.get(method) ?? 0) + times);
  }

  /** Queues an update for the next getUpdates. */
  push(update: Update): void {
    this.queue.push(update);
    for (const release of this.polls.splice(0)) release();
  }

  /**
   * Queues an update and resolves once the bot has handled it: telegraf asks for more updates
   * only after the last batch's handlers have all finished.
   */
  deliver(update: Update, timeoutMs = 15_000): Promise<void> {
    const copy = { ...update };
    const done = new Promise<void>((resolve) => this.handled.push({ update: copy, resolve }));
    this.push(copy);
    return withTimeout(done, timeoutMs, `update ${update.update_id} was not handled`);
  }

  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method && !c.failed);
  }

  /** Successful sendMessage and editMessageText texts sent to a chat, in order. */
  textsTo(chatId: number): string[] {
    return this.calls
      .filter((c) => !c.failed && ["sendMessage", "editMessageText"].includes(c.method))
      .filter((c) => Number(c.payload.chat_id) === chatId)
      .map((c) => String(c.payload.text));
  }

  /** The first call (already made, or still to come) of `method` that passes `test`. */
  waitFor(
    method: string,
    test: (call: ApiCall) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<ApiCall> {
    const seen = this.calls.find((call) => call.method === method && !call.failed && test(call));
    return seen ? Promise.resolve(seen) : this.awaitCall(method, test, timeoutMs, `no ${method} call came`);
  }

  /** The next call of `method` from now on that passes `test`. */
  nextCall(
    method: string,
    test: (call: ApiCall) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<ApiCall> {
    return this.awaitCall(method, test, timeoutMs, `no further ${method} call came`);
  }

  /** The bot's message (the last, if several) that carries the inline button `data`. */
  messageWithButton(data: string): { chatId: number; messageId: number } | undefined {
    const sent = this.callsOf("sendMessage").findLast((c) =>
      (c.payload.reply_markup?.inline_keyboard ?? []).some((row: Array<{ callback_data?: string }>) =>
        row.some((button) => button.callback_data === data),
      ),
    );
    return sent?.messageId === undefined
      ? undefined
      : { chatId: Number(sent.payload.chat_id), messageId: sent.messageId };
  }

  /** A private-chat message from `user`, a command when it starts with "/". */
  message(user: FakeUser, text: string, updateId = this.nextUpdateId++): Update {
    const command = /^\/\S+/.exec(text)?.[0];
    return {
      update_id: updateId,
      message: {
        message_id: this.nextMessageId++,
        date: Math.floor(Date.now() / 1000),
        from: { is_bot: false, ...user },
        chat: { id: user.id, type: "private", first_name: user.first_name },
        text,
        ...(command ? { entities: [{ type: "bot_command", offset: 0, length: command.length }] } : {}),
      },
    } as Update;
  }

  /** `user` pressing the button `data` under the bot's message `call` (a sendMessage). */
  press(
    user: FakeUser,
    data: string,
    message: { chatId: number; messageId: number },
    updateId = this.nextUpdateId++,
  ) {
    return {
      update_id: updateId,
      callback_query: {
        id: `cb${updateId}`,
        from: { is_bot: false, ...user },
        chat_instance: "fake",
        data,
        message: {
          message_id: message.messageId,
          date: Math.floor(Date.now() / 1000),
          chat: { id: message.chatId, type: "private", first_name: user.first_name },
          from: BOT_USER,
          text: "(preview)",
        },
      },
    } as Update;
  }

  private awaitCall(
    method: string,
    test: (call: ApiCall) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<ApiCall> {
    const matches = (call: ApiCall) => call.method === method && !call.failed && test(call);
    const next = new Promise<ApiCall>((resolve) => this.waiters.push({ test: matches, resolve }));
    return withTimeout(next, timeoutMs, what);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const match = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? "");
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (!match || match[1] !== this.token) return answer(res, 404, notFound());
    const method = match[2] as string;
    const boundary = /^multipart\/form-data;\s*boundary=(\S+)/.exec(req.headers["content-type"] ?? "")?.[1];
    const { payload, files } = boundary
      ? multipart(body, boundary)
      : { payload: body.length > 0 ? JSON.parse(body.toString("utf8")) : {}, files: undefined };
    const call: ApiCall = { method, payload, at: performance.now(), ...(files ? { files } : {}) };
    const drops = this.drops.get(method) ?? 0;
    if (drops > 0) {
      this.drops.set(method, drops - 1);
      this.calls.push({ ...call, failed: { ok: false, error_code: 0, description: "connection cut" } });
      req.socket.destroy();
      return;
    }
    const chatFailure = method === "sendMessage" ? this.failingChats.get(Number(payload.chat_id)) : undefined;
    const failure = chatFailure ?? this.failures.get(method)?.shift();
    if (failure) {
      this.calls.push({ ...call, failed: failure });
      return answer(res, failure.error_code, failure);
    }
    this.calls.push(call);
    for (const waiter of [...this.waiters]) {
      if (waiter.test(call)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(call);
      }
    }
    const result =
      method === "getUpdates" ? await this.getUpdates(payload, res) : this.result(method, payload, files);
    const messageId = (result as { message_id?: unknown } | undefined)?.message_id;
    if (typeof messageId === "number") call.messageId = messageId;
    const hold = this.holds.find((h) => h.test(call));
    if (hold) {
      this.holds.splice(this.holds.indexOf(hold), 1);
      hold.resolve(call);
      return;
    }
    if (result === undefined) return answer(res, 404, notFound());
    answer(res, 200, { ok: true, result });
  }

  private async getUpdates(payload: { timeout?: number }, res: http.ServerResponse): Promise<Update[]> {
    let gone = false;
    res.once("close", () => {
      gone = true;
    });
    const poll = ++this.pollCount;
    for (const waiter of [...this.handled]) {
      if (waiter.handedIn !== undefined && poll > waiter.handedIn) {
        this.handled.splice(this.handled.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
    if (this.queue.length === 0 && (payload.timeout ?? 0) > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, POLL_HOLD_MS);
        const release = () => {
          clearTimeout(timer);
          resolve();
        };
        this.polls.push(release);
        res.once("close", release);
      });
    }
    // A poll the bot gave up on (it is stopping) takes nothing: the updates wait for the next.
    if (gone) return [];
    const updates = this.queue.splice(0);
    const now = performance.now();
    for (const update of updates) this.deliveredAt.set(update.update_id, now);
    for (const waiter of this.handled) if (updates.includes(waiter.update)) waiter.handedIn = poll;
    return updates;
  }

  private result(method: string, payload: Record<string, unknown>, files?: ApiCall["files"]): unknown {
    const date = Math.floor(Date.now() / 1000);
    switch (method) {
      case "getMe":
        return BOT_USER;
      case "sendMessage":
        return {
          message_id: this.nextMessageId++,
          date,
          from: BOT_USER,
          chat: { id: payload.chat_id, type: "private" },
          text: payload.text,
        };
      case "editMessageText":
        return {
          message_id: payload.message_id,
          date,
          edit_date: date,
          from: BOT_USER,
          chat: { id: payload.chat_id, type: "private" },
          text: payload.text,
        };
      case "sendPhoto":
      case "sendDocument": {
        const field = method === "sendPhoto" ? "photo" : "document";
        const file = files?.[field];
        if (!file) return undefined;
        const sent = {
          file_id: `file${this.nextMessageId}`,
          file_unique_id: `u${this.nextMessageId}`,
          file_size: file.size,
        };
        return {
          message_id: this.nextMessageId++,
          date,
          from: BOT_USER,
          chat: { id: Number(payload.chat_id), type: "private" },
          ...(payload.caption ? { caption: payload.caption } : {}),
          ...(field === "photo" ? { photo: [sent] } : { document: { ...sent, file_name: file.filename } }),
        };
      }
      case "answerCallbackQuery":
      case "setMyCommands":
      case "deleteWebhook":
      case "setWebhook":
        return true;
      default:
        return undefined;
    }
  }
}

/**
 * A multipart/form-data body as telegraf sends it: text fields into the payload (JSON-encoded
 * ones such as reply_markup parsed back), files by field name with their name and bytes.
 */
function multipart(
  body: Buffer,
  boundary: string,
): { payload: Record<string, unknown>; files: Record<string, UploadedFile> } {
  const payload: Record<string, unknown> = {};
  const files: Record<string, UploadedFile> = {};
  const delimiter = Buffer.from(`--${boundary}`);
  let at = body.indexOf(delimiter);
  while (at !== -1) {
    const start = at + delimiter.length;
    if (body.subarray(start, start + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, start);
    if (next === -1) break;
    // Each part: CRLF, headers, a blank line, the content, CRLF before the next delimiter.
    const part = body.subarray(start + 2, next - 2);
    const split = part.indexOf("\r\n\r\n");
    const headers = part.subarray(0, split).toString("utf8");
    const content = part.subarray(split + 4);
    const name = /name="([^"]*)"/.exec(headers)?.[1] ?? "";
    const filename = /filename="([^"]*)"/.exec(headers)?.[1];
    if (filename !== undefined) files[name] = { filename, size: content.length, bytes: Buffer.from(content) };
    else {
      const text = content.toString("utf8");
      payload[name] = name === "reply_markup" ? JSON.parse(text) : text;
    }
    at = next;
  }
  return { payload, files };
}

const notFound = (): ApiError => ({ ok: false, error_code: 404, description: "Not Found: method not found" });

function answer(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.destroyed) return;
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
