import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { INPUTS } from "../../scripts/build.ts";
import { CONFIG_VARIABLES } from "../../src/config.ts";
import { ROOT } from "../support/cli.ts";

/**
 * docker-compose.yml, Dockerfile and .env.example read as Docker would read them (no Docker
 * here, so the YAML is parsed and its shape checked; `docker compose config` does the rest
 * where Docker exists).
 */
const read = (file: string) => readFileSync(path.join(ROOT, file), "utf8");
type Service = {
  image?: string;
  build?: unknown;
  command?: unknown;
  restart?: string;
  ports?: unknown[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: unknown;
};
const compose = parse(read("docker-compose.yml")) as { services: Record<string, Service> };
const { postgres, ledger } = compose.services as { postgres: Service; ledger: Service };

/** Read by the CLI only (COLUMNS), or meaningless with the server compose provides (LEDGER_DATA_DIR). */
const NOT_FOR_THE_CONTAINER = new Set(["COLUMNS", "LEDGER_DATA_DIR"]);

describe("docker-compose.yml", () => {
  it("runs PostgreSQL and the ledger, both restarted unless stopped", () => {
    expect(Object.keys(compose.services).sort()).toEqual(["ledger", "postgres"]);
    expect(postgres.image).toMatch(/^postgres:15/);
    expect(postgres.restart).toBe("unless-stopped");
    expect(ledger.restart).toBe("unless-stopped");
    expect(postgres.healthcheck).toBeDefined();
    expect(ledger.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
  });

  it("does not publish PostgreSQL, which would clash with one already on the host", () => {
    expect(postgres.ports).toBeUndefined();
  });

  it("builds the ledger's image, dependencies installed at build time, not at every start", () => {
    expect(ledger.build).toBe(".");
    expect(JSON.stringify(ledger.command ?? "")).not.toContain("npm");
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/^COPY package\.json package-lock\.json/m);
    // Without a token the container stays up and says why, rather than exit and be restarted.
    expect(dockerfile).toMatch(/^CMD \["node", "bin\/plugin-ledger\.js", "start", "--stay"\]$/m);
    expect(read(".dockerignore")).toMatch(/^node_modules$/m);
    expect(read(".dockerignore")).toMatch(/^\.env$/m);
  });

  it("copies in, before `npm ci`, everything the build it runs (`prepare`) reads", () => {
    const dockerfile = read("Dockerfile");
    const beforeInstall = dockerfile.slice(0, dockerfile.search(/^RUN npm ci\b/m));
    const copied = [...beforeInstall.matchAll(/^COPY (.+) \S+$/gm)].flatMap((copy) =>
      (copy[1] ?? "").split(" "),
    );
    for (const input of INPUTS) expect(copied, input).toContain(input.split("/")[0]);
  });

  it("passes every variable the ledger reads through from .env, and the database's URL", () => {
    const environment = ledger.environment ?? {};
    expect(environment.DATABASE_URL).toMatch(/^postgres:\/\/ledger:.*@postgres:5432\/ledger$/);
    const passed = CONFIG_VARIABLES.filter((v) => v !== "DATABASE_URL" && !NOT_FOR_THE_CONTAINER.has(v));
    expect(passed).toContain("TELEGRAM_ADMINS");
    for (const variable of passed) {
      expect(environment[variable], variable).toMatch(new RegExp(`^\\$\\{${variable}:-[^}]*\\}$`));
    }
  });

  it("has an .env.example naming each of them, and git ignores .env", () => {
    const example = read(".env.example");
    for (const variable of CONFIG_VARIABLES) {
      if (variable === "DATABASE_URL" || NOT_FOR_THE_CONTAINER.has(variable)) continue;
      expect(example).toMatch(new RegExp(`^${variable}=`, "m"));
    }
    expect(example).toMatch(/^POSTGRES_PASSWORD=/m);
    expect(read(".gitignore")).toMatch(/^\.env$/m);
  });
});
