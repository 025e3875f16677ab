#!/usr/bin/env python3
"""A trading-bot host following plugin-ledger over HTTP, with the standard library only.

It loads the active versions and A/B splits at start (GET /v1/plugins), then follows
GET /v1/changes (Server-Sent Events), reconnecting with Last-Event-ID so that no change is
missed, and keeps running on the last versions it knew while the ledger is unreachable.
It assigns units to A/B arms itself, from the published salt and weight.

    LEDGER_URL=http://127.0.0.1:8080 LEDGER_TOKEN=... [LEDGER_CACHE=versions.json] \
        python3 examples/python_host.py [--check-assign PLUGIN UNIT...]

With LEDGER_CACHE set it keeps the last versions it knew in that file, so that it can also
start while the ledger is unreachable.

It prints one JSON document a line: what it loaded, each change it applied, and with
--check-assign each unit's arm as computed here next to the ledger's own (GET /v1/assign).
"""

import json
import os
import sys
import time
import urllib.parse
import urllib.request

BASIS_POINTS = 10_000


def murmur3_x86_32(data: bytes, seed: int = 0) -> int:
    """MurmurHash3 x86 32-bit, as an unsigned number (the reference algorithm)."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed & mask
    rounded = len(data) - len(data) % 4
    for i in range(0, rounded, 4):
        k = int.from_bytes(data[i : i + 4], "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    tail = data[rounded:]
    k = 0
    if len(tail) >= 3:
        k ^= tail[2] << 16
    if len(tail) >= 2:
        k ^= tail[1] << 8
    if len(tail) >= 1:
        k ^= tail[0]
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h


def assign(plugin: dict, unit_key: str) -> dict:
    """The ledger's A/B rule: murmur3(salt:unitKey) mod 10000, below the weight -> candidate."""
    test = plugin.get("abTest")
    if test is None:
        return {"version": plugin["version"], "arm": "only", "bucket": None}
    bucket = murmur3_x86_32(f"{test['salt']}:{unit_key}".encode("utf-8")) % BASIS_POINTS
    if bucket < test["candidateWeightBp"]:
        return {"version": test["candidate"], "arm": "candidate", "bucket": bucket}
    return {"version": test["control"], "arm": "control", "bucket": bucket}


class Ledger:
    def __init__(self, url: str, token: str):
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **query) -> dict:
        qs = urllib.parse.urlencode(query, doseq=True)
        request = urllib.request.Request(f"{self.url}{path}{'?' + qs if qs else ''}", headers=self.headers)
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def changes(self, last_event_id):
        """Yields (position, event) from /v1/changes until the stream ends or fails."""
        headers = dict(self.headers, Accept="text/event-stream")
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        request = urllib.request.Request(f"{self.url}/v1/changes", headers=headers)
        # The server sends a heartbeat every 15 s: a silent minute means a dead connection.
        with urllib.request.urlopen(request, timeout=60) as response:
            say({"event": "following", "after": last_event_id})
            fields = {}
            for raw in response:
                line = raw.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if "data" in fields:
                        yield int(fields["id"]), json.loads(fields["data"])
                    fields = {}
                elif not line.startswith(":") and ":" in line:
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value


def say(document: dict) -> None:
    print(json.dumps(document), flush=True)


def load(ledger: Ledger, cache):
    """The versions now, from the ledger; while it is unreachable, from the cache if there is one."""
    while True:
        try:
            loaded = ledger.get("/v1/plugins")
            state = {"position": loaded["position"], "plugins": {p["pluginId"]: p for p in loaded["items"]}}
            remember(cache, state)
            return state
        except OSError as error:
            say({"event": "unreachable", "error": str(error)})
            if cache and os.path.exists(cache):
                with open(cache, encoding="utf-8") as file:
                    return json.load(file)
            time.sleep(1)


def remember(cache, state: dict) -> None:
    if cache:
        with open(cache + ".tmp", "w", encoding="utf-8") as file:
            json.dump(state, file)
        os.replace(cache + ".tmp", cache)


def run(ledger: Ledger, check: list, cache=None) -> None:
    state = load(ledger, cache)
    plugins, position = state["plugins"], state["position"]
    say({"event": "loaded", "position": position, "versions": {k: p["version"] for k, p in plugins.items()}})

    if check:
        plugin_id, units = check[0], check[1:]
        served = ledger.get("/v1/assign", plugin=plugin_id, unit=units)["items"]
        for unit, theirs in zip(units, served):
            mine = assign(plugins[plugin_id], unit)
            say({"event": "assign", "unit": unit, "local": mine,
                 "ledger": {k: theirs[k] for k in ("version", "arm", "bucket")}})

    delay = 0.5
    while True:
        try:
            for position, event in ledger.changes(position):
                delay = 0.5
                if apply(plugins, event):
                    remember(cache, {"position": position, "plugins": plugins})
                    plugin = plugins.get(event["data"]["pluginId"])
                    say({"event": "change", "position": position, "type": event["type"],
                         "plugin": event["data"]["pluginId"], "version": plugin and plugin["version"],
                         "receivedAt": time.time(), "recordedAt": event["recordedAt"]})
        except (OSError, ValueError) as error:
            # Keep running on the last known versions; resume after the last position seen.
            say({"event": "reconnecting", "after": position, "error": str(error)})
        time.sleep(delay)
        delay = min(delay * 2, 30)


def apply(plugins: dict, event: dict) -> bool:
    """Applies an event that changes what runs (or how units split); False for any other."""
    data = event["data"]
    kind = event["type"]
    plugin = plugins.get(data.get("pluginId"))
    if kind == "PluginRegistered":
        plugins[data["pluginId"]] = {"pluginId": data["pluginId"], "version": data["version"], "abTest": None}
    elif kind in ("PluginUpgraded", "PluginRolledBack") and plugin:
        plugin["version"] = data["to"]
    elif kind == "PluginDeactivated":
        plugins.pop(data["pluginId"], None)
    elif kind == "AbTestStarted" and plugin:
        plugin["abTest"] = {k: data[k] for k in ("testId", "control", "candidate", "candidateWeightBp", "salt")}
    elif kind == "AbTestWeightChanged" and plugin and plugin["abTest"]:
        plugin["abTest"]["candidateWeightBp"] = data["toBp"]
    elif kind == "AbTestPromoted" and plugin:
        plugin.update(version=data["candidate"], abTest=None)
    elif kind == "AbTestAborted" and plugin:
        plugin["abTest"] = None
    else:
        return False
    return True


if __name__ == "__main__":
    ledger = Ledger(os.environ.get("LEDGER_URL", "http://127.0.0.1:8080"), os.environ["LEDGER_TOKEN"])
    arguments = sys.argv[1:]
    try:
        check = arguments[1:] if arguments[:1] == ["--check-assign"] else []
        run(ledger, check, os.environ.get("LEDGER_CACHE"))
    except KeyboardInterrupt:
        pass
