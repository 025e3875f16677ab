import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { eventLine, readSigningKey } from "../../ledger/index.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { positionArg } from "./arguments.ts";
import type { Run } from "./run.ts";
import { verifierOf } from "./transparency.ts";

export function registerAdminVerbs(program: Command, run: Run): void {
  program
    .command("migrate")
    .description("apply pending database migrations (also done at every start)")
    .action(
      run(async (ctx) => {
        const ledger = await ctx.ledger();
        const { storage } = ledger;
        // Opening the ledger already migrated; this run reports what, if anything, was pending.
        const applied = await ledger.migrate();
        ctx.out.result({ ok: true, schema: ctx.config.schema, applied, location: storage.location }, () =>
          applied.length ? `applied ${applied.join(", ")}` : `schema "${ctx.config.schema}" is up to date`,
        );
      }),
    );

  program
    .command("verify")
    .description("walk the hash chain and name the first bad position (exit 5 when tampered)")
    .option("--checkpoint <file>", "also check that today's log extends this signed checkpoint")
    .option("--key <verifierKey>", "check the checkpoint's signature with this verifier key")
    .action(
      run(async (ctx, options: { checkpoint?: string; key?: string }) => {
        // Without --key, the ledger's own signing key (if set) checks the signature.
        const verifier = options.key
          ? verifierOf(options.key)
          : ctx.config.signingKeyFile && options.checkpoint
            ? readSigningKey(ctx.config.signingKeyFile)
            : undefined;
        const note = options.checkpoint ? readNote(options.checkpoint) : undefined;
        const ledger = await ctx.ledger();
        const started = Date.now();
        const progress = (what: string) => (done: number, total: number) => {
          if (Date.now() - started > 1000) ctx.out.progress(`${what} ${done}/${total} events`);
        };
        const result = await ledger.verify(progress("verified"));
        ctx.out.endProgress();
        if (note === undefined) {
          ctx.out.result(result, () =>
            result.ok
              ? `chain verifies: ${result.events} events, head ${result.headHash}`
              : `TAMPERED at position ${result.firstBadPosition}: ${result.problem}`,
          );
          if (!result.ok) throw new CliError("", ExitCode.tampered);
          return;
        }
        const audit = await ledger.auditCheckpoint(note, verifier, progress("hashed"));
        ctx.out.endProgress();
        ctx.out.result({ ...result, ok: result.ok && audit.ok, chainOk: result.ok, checkpoint: audit }, () =>
          [
            result.ok
              ? `chain verifies: ${result.events} events, head ${result.headHash}`
              : `TAMPERED at position ${result.firstBadPosition}: ${result.problem}`,
            audit.ok
              ? `checkpoint holds: today's log of ${audit.treeSize} events extends the checkpoint of ${audit.checkpoint?.size} (${audit.signatureChecked ? "signature checked" : "signature NOT checked: no --key and no LEDGER_SIGNING_KEY_FILE"})`
              : `CHECKPOINT BROKEN: ${audit.problem}`,
            audit.lastHolding
              ? `last stored checkpoint that still holds: size ${audit.lastHolding.size}, signed ${audit.lastHolding.signedAt}`
              : audit.broken.length > 0
                ? "no stored checkpoint still holds"
                : "no checkpoints are stored in this ledger",
          ].join("\n"),
        );
        if (!result.ok || !audit.ok) throw new CliError("", ExitCode.tampered);
      }),
    );

  program
    .command("events")
    .description("print events as JSON lines, in position order")
    .option("--from <position>", "start after this position", positionArg, 0)
    .action(
      run(async (ctx, options: { from: number }) => {
        const ledger = await ctx.ledger();
        for await (const batch of ledger.events(options.from)) {
          const lines = batch.map(eventLine);
          // Once the reader has gone (`| head -1`), the rest is not read from the database either.
          if (!(await ctx.out.write(`${lines.join("\n")}\n`))) break;
        }
      }),
    );
}

function readNote(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, ExitCode.invalid);
  }
}
