import { describe, expect, it } from "vitest";
import type { SignedCheckpoint } from "../../src/index.ts";
import { checkpointMessage, startCheckpointPoster } from "../../src/telegram/checkpoint-poster.ts";
import { testLogger } from "../support/databases.ts";

const checkpoint = (size: number): SignedCheckpoint => ({
  origin: "plugin-ledger/test",
  size,
  rootHash: "AAAA",
  keyName: "plugin-ledger/test",
  keyId: "01020304",
  signedAt: new Date("2026-11-30T00:00:00Z"),
  note: `plugin-ledger/test\n${size}\nAAAA\n\n— plugin-ledger/test <sig&>\n`,
});

describe("posting signed checkpoints to the audit chats", () => {
  it("posts each new checkpoint once, keyed by its size, and nothing while none is new", async () => {
    let latest: SignedCheckpoint | null = null;
    const posts: Array<{ html: string; key: string }> = [];
    const poster = startCheckpointPoster(
      { latestCheckpoint: async () => latest },
      { postToAuditChats: async (html, key) => void posts.push({ html, key }) },
      testLogger,
      3_600_000,
    );
    try {
      await poster.check();
      expect(posts).toEqual([]);
      latest = checkpoint(5);
      await poster.check();
      await poster.check();
      latest = checkpoint(9);
      await poster.check();
      expect(posts.map((p) => p.key)).toEqual(["checkpoint:5", "checkpoint:9"]);
    } finally {
      poster.stop();
    }
  });

  it("escapes the note inside the message", () => {
    const html = checkpointMessage(checkpoint(3));
    expect(html).toContain("&lt;sig&amp;&gt;");
    expect(html).not.toContain("<sig&>");
  });
});
