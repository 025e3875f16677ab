import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

// The layout README "Development" describes, held by the sources themselves: transports see the
// ledger through its one face, and no file or function in src/ or projections/ outgrows a sitting.

const root = path.resolve(import.meta.dirname, "../..");
const MAX_FILE_LINES = 300;
const MAX_FUNCTION_LINES = 80;

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(root, folder), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => path.join(folder, name))
    .sort();
}

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(path.join(root, file), "utf8"), ts.ScriptTarget.Latest, true);
}

/** Every module a file names: static imports, re-exports and `import("…")`. */
function importedModules(source: ts.SourceFile): string[] {
  const names: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      names.push((node.moduleSpecifier as ts.StringLiteral).text);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      names.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

const TRANSPORTS = ["src/cli", "src/telegram", "src/http", "src/webhooks"];

/** What a transport may import, besides packages and its own folder. */
function allowedForTransport(transport: string, target: string): boolean {
  if (target === "src/ledger/index.ts") return true;
  if (target.startsWith("src/domain/") || target.startsWith("src/timeline/")) return true;
  if (target === "src/config.ts" || target === "src/log.ts") return true;
  // The CLI is the composition root: it starts the other transports.
  return transport === "src/cli" && TRANSPORTS.some((other) => target.startsWith(`${other}/`));
}

describe("the source layout", () => {
  it("transports import the ledger's face and the domain, never the store, projections or queries", () => {
    const offenders: string[] = [];
    for (const transport of TRANSPORTS) {
      for (const file of sourceFiles(transport)) {
        for (const name of importedModules(parse(file))) {
          if (!name.startsWith(".")) continue;
          const target = path.relative(root, path.resolve(root, path.dirname(file), name));
          if (target.startsWith(`${transport}/`) || allowedForTransport(transport, target)) continue;
          offenders.push(`${file} imports ${target}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it("the domain imports nothing of the project's I/O", () => {
    // Pure packages only: no pg, no telegraf, no file system or network, no clock of its own.
    const pure = new Set(["semver", "zod", "murmurhash3js", "node:crypto"]);
    const offenders = sourceFiles("src/domain").flatMap((file) =>
      importedModules(parse(file))
        .filter((name) => !(name.startsWith("./") || pure.has(name)))
        .map((name) => `${file} imports ${name}`),
    );
    expect(offenders).toEqual([]);
  });

  it(`keeps every file in src/ and projections/ within ${MAX_FILE_LINES} lines and every function within ${MAX_FUNCTION_LINES}`, () => {
    const offenders: string[] = [];
    for (const file of [...sourceFiles("src"), ...sourceFiles("projections")]) {
      const source = parse(file);
      const lines = source.getLineStarts().length;
      if (lines > MAX_FILE_LINES) offenders.push(`${file}: ${lines} lines`);
      const visit = (node: ts.Node): void => {
        if (ts.isFunctionLike(node) && "body" in node && node.body) {
          const first = source.getLineAndCharacterOfPosition(node.getStart()).line;
          const last = source.getLineAndCharacterOfPosition(node.end).line;
          if (last - first + 1 > MAX_FUNCTION_LINES) {
            offenders.push(`${file}:${first + 1}: a function of ${last - first + 1} lines`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(offenders).toEqual([]);
  });
});
