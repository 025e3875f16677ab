import type { Command } from "commander";
import { type CheckpointAudit, readSigningKey, type VerifyResult } from "../../ledger/index.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { readInputFile, verifierOf } from "./arguments.ts";
import type { Run } from "./run.ts";

export function registerVerifyVerb(program: Command, run: Run): void {
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
        const note = options.checkpoint ? readInputFile(options.checkpoint) : undefined;
        const ledger = await ctx.ledger();
        const started = Date.now();
        const progress = (what: string) => (done: number, total: number) => {
          if (Date.now() - started > 1000) ctx.out.progress(`${what} ${done}/${total} events`);
        };
        const result = await ledger.verify(progress("verified"));
        ctx.out.endProgress();
        if (note === undefined) {
          ctx.out.result(result, () => chainLine(result));
          if (!result.ok) throw new CliError("", ExitCode.tampered);
          return;
        }
        const audit = await ledger.auditCheckpoint(note, verifier, progress("hashed"));
        ctx.out.endProgress();
        ctx.out.result({ ...result, ok: result.ok && audit.ok, chainOk: result.ok, checkpoint: audit }, () =>
          [chainLine(result), ...checkpointLines(audit)].join("\n"),
        );
        if (!result.ok || !audit.ok) throw new CliError("", ExitCode.tampered);
      }),
    );
}

function chainLine(result: VerifyResult): string {
  return result.ok
    ? `chain verifies: ${result.events} events, head ${result.headHash}`
    : `TAMPERED at position ${result.firstBadPosition}: ${result.problem}`;
}

function checkpointLines(audit: CheckpointAudit): string[] {
  return [
    audit.ok
      ? `checkpoint holds: today's log of ${audit.treeSize} events extends the checkpoint of ${audit.checkpoint?.size} (${audit.signatureChecked ? "signature checked" : "signature NOT checked: no --key and no LEDGER_SIGNING_KEY_FILE"})`
      : `CHECKPOINT BROKEN: ${audit.problem}`,
    audit.lastHolding
      ? `last stored checkpoint that still holds: size ${audit.lastHolding.size}, signed ${audit.lastHolding.signedAt}`
      : audit.broken.length > 0
        ? "no stored checkpoint still holds"
        : "no checkpoints are stored in this ledger",
  ];
}
