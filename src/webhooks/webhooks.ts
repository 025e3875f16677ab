import { createHash, createHmac } from "node:crypto";
import type { WebhookConfig } from "../config.ts";
import type { Backoff, LedgerFeed, RecordedEvent } from "../ledger/index.ts";
import type { Logger } from "../log.ts";

export type Webhooks = {
  /** The subscriber name of each endpoint (`webhook:<hash of the URL>`), as `subscriptions` lists it. */
  endpoints: Array<{ url: string; subscriber: string }>;
  stop(): Promise<void>;
};

export type WebhookOptions = {
  /** Backoff between failed deliveries (default 1 s doubling up to 5 min). */
  retry?: Backoff;
  standbyMs?: number;
  leaseMs?: number;
};

const DEFAULT_RETRY: Backoff = { initialMs: 1_000, maxMs: 300_000 };

/** The subscriber that delivers to `url`: the URL itself may hold a credential, so only its hash. */
export function webhookSubscriberName(url: string): string {
  return `webhook:${createHash("sha256").update(url).digest("hex").slice(0, 16)}`;
}

/** `sha256=<hex HMAC-SHA256 of the exact body>`, what `X-Ledger-Signature` carries. */
export function webhookSignature(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/**
 * Delivers every event to each configured endpoint: one durable subscriber per endpoint, so each
 * has its own checkpoint and a failing one holds back only itself. Events are POSTed one at a
 * time in position order, as the JSON of `plugin-ledger events`; anything but a 2xx answer (or no
 * answer within the timeout) fails the batch, which the subscriber retries with backoff from the
 * first event not yet delivered. At least once: after a crash the batch in flight is sent again,
 * and `X-Ledger-Position` lets the receiver drop what it has seen. A new endpoint starts at the
 * head: it gets the changes made from the moment it is configured, not the whole history.
 */
export function startWebhooks(
  ledger: Pick<LedgerFeed, "subscribe">,
  config: WebhookConfig,
  logger: Logger,
  options: WebhookOptions = {},
): Webhooks {
  const endpoints = config.urls.map((url) => ({ url, subscriber: webhookSubscriberName(url) }));
  const subscriptions = endpoints.map(({ url, subscriber }) => {
    const log = logger.child({ webhook: subscriber, host: new URL(url).host });
    log.info("webhook: delivering changes");
    // Delivered in this process already: a retried batch does not POST them again.
    let delivered = 0;
    return ledger.subscribe(
      subscriber,
      async (events, { signal }) => {
        for (const event of events) {
          if (event.position <= delivered) continue;
          await deliver(url, event, config, signal);
          delivered = event.position;
        }
      },
      {
        from: "head",
        batchSize: 20,
        retry: options.retry ?? DEFAULT_RETRY,
        standbyMs: options.standbyMs,
        leaseMs: options.leaseMs,
      },
    );
  });
  return {
    endpoints,
    async stop() {
      await Promise.all(subscriptions.map((s) => s.stop()));
    },
  };
}

async function deliver(url: string, event: RecordedEvent, config: WebhookConfig, stopped: AbortSignal) {
  const body = JSON.stringify(event);
  const response = await fetch(url, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "user-agent": "plugin-ledger-webhook",
      "x-ledger-position": String(event.position),
      "x-ledger-event-id": event.eventId,
      "x-ledger-event-type": event.type,
      "x-ledger-signature": webhookSignature(config.secret, body),
    },
    body,
    redirect: "error",
    signal: AbortSignal.any([stopped, AbortSignal.timeout(config.timeoutMs)]),
  });
  // The body is not used; reading it lets the connection be reused.
  await response.arrayBuffer().catch(() => undefined);
  if (!response.ok) throw new Error(`position ${event.position}: the endpoint answered ${response.status}`);
}
