import { describe, expect, it } from "vitest";
import {
  AUDIT_CHATS_STREAM,
  EVENT_DATA_SCHEMAS,
  EVENT_SCHEMA_VERSION,
  EVENT_TYPES,
  HOST_STREAM,
  parseEvent,
  pluginStream,
  streamIdOf,
} from "../../src/domain/index.ts";
import { abStarted, host, releaseData, released, upgraded } from "../support/scenario.ts";

describe("event schemas", () => {
  it("are version 1 and cover every event type of the design", () => {
    expect(EVENT_SCHEMA_VERSION).toBe(1);
    expect([...EVENT_TYPES].sort()).toEqual(
      [
        "VersionReleased",
        "VersionDeprecated",
        "PluginRegistered",
        "PluginUpgraded",
        "PluginRolledBack",
        "PluginDeactivated",
        "HostVersionsDeclared",
        "AbTestStarted",
        "AbTestWeightChanged",
        "AbTestPromoted",
        "AbTestAborted",
        "AuditChatEnabled",
        "AuditChatDisabled",
      ].sort(),
    );
    expect(Object.keys(EVENT_DATA_SCHEMAS)).toEqual(EVENT_TYPES);
  });

  it("parse a valid release with all its metadata", () => {
    const data = {
      ...releaseData("momentum", "1.2.3-rc.1+sha.5"),
      commitHash: "0a1b2c3",
      requires: { api: "^2.0.0", dbSchema: ">=40.0.0" },
      compatibleWith: { risk_guard: "^1.0.0" },
      features: ["trailing-stop"],
      releaseNotes: "Faster.",
    };
    expect(parseEvent("VersionReleased", data)).toEqual({ type: "VersionReleased", data });
  });

  it("accept a plain ISO date as build date", () => {
    expect(() =>
      parseEvent("VersionReleased", { ...releaseData("momentum", "1.0.0"), buildDate: "2024-05-01" }),
    ).not.toThrow();
  });

  it.each([
    ["a loose version", { version: "v1.2.3" }],
    ["a bad plugin id", { pluginId: "Momentum" }],
    ["a bad range", { requires: { api: "^^2", dbSchema: null } }],
    ["a bad compatibleWith key", { compatibleWith: { "Risk-Guard": "^1.0.0" } }],
    ["a self-compatibility", { compatibleWith: { momentum: "^1.0.0" } }],
    ["an uppercase hash", { commitHash: "ABCDEF1" }],
    ["a bad date", { buildDate: "yesterday" }],
    ["a missing author", { author: undefined }],
  ])("refuse on read %s", (_, patch) => {
    expect(() => parseEvent("VersionReleased", { ...releaseData("momentum", "1.0.0"), ...patch })).toThrow(
      /Invalid VersionReleased event data/,
    );
  });

  it("refuse an unknown type, including a prototype key", () => {
    expect(() => parseEvent("PluginExploded", {})).toThrow(/Unknown event type/);
    expect(() => parseEvent("toString", {})).toThrow(/Unknown event type/);
  });

  it("bound the A/B weight to 1..9999 basis points and need two distinct arms", () => {
    const start = abStarted("momentum", "1.0.0", "1.1.0").data;
    expect(() => parseEvent("AbTestStarted", { ...start, candidateWeightBp: 1 })).not.toThrow();
    expect(() => parseEvent("AbTestStarted", { ...start, candidateWeightBp: 9999 })).not.toThrow();
    expect(() => parseEvent("AbTestStarted", { ...start, candidateWeightBp: 0 })).toThrow();
    expect(() => parseEvent("AbTestStarted", { ...start, candidateWeightBp: 10000 })).toThrow();
    expect(() => parseEvent("AbTestStarted", { ...start, candidateWeightBp: 2.5 })).toThrow();
    expect(() => parseEvent("AbTestStarted", { ...start, candidate: "1.0.0" })).toThrow();
    expect(() =>
      parseEvent("AbTestWeightChanged", { pluginId: "momentum", testId: "t1", fromBp: 100, toBp: 10000 }),
    ).toThrow();
  });

  it("check the upgrade direction field", () => {
    expect(() =>
      parseEvent("PluginUpgraded", { ...upgraded("momentum", "1.0.0", "1.1.0").data, direction: "sideways" }),
    ).toThrow();
  });
});

describe("streams", () => {
  it("are one per plugin and one for the host", () => {
    expect(pluginStream("momentum")).toBe("plugin-momentum");
    expect(HOST_STREAM).toBe("host");
    expect(streamIdOf(released("momentum", "1.0.0"))).toBe("plugin-momentum");
    expect(streamIdOf(host("1.0.0", "1.0.0"))).toBe("host");
  });

  it("keep the audit chats on a stream of their own", () => {
    const enabled = parseEvent("AuditChatEnabled", { chatId: -1001234567890, source: "config" });
    expect(streamIdOf(enabled)).toBe(AUDIT_CHATS_STREAM);
    expect(AUDIT_CHATS_STREAM).toBe("audit-chats");
  });

  it("refuse a chat id that is not a whole number in 52 bits, or an unknown source", () => {
    for (const chatId of [0, 1.5, 2 ** 53, "-100", null]) {
      expect(() => parseEvent("AuditChatEnabled", { chatId, source: "command" })).toThrow();
    }
    expect(() => parseEvent("AuditChatDisabled", { chatId: 42, source: "admin" })).toThrow();
  });
});
