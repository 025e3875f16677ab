import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { generateSigningKey, verifyProofFile, writeSigningKey } from "../../ledger/index.ts";
import { CliError, ExitCode } from "../exit-codes.ts";
import { positiveInt, readInputFile, verifierOf } from "./arguments.ts";
import type { Run } from "./run.ts";

/** The auditors' verbs: keys, checkpoints, proofs. `keygen` and `verify-proof` never open the ledger. */
export function registerTransparencyVerbs(program: Command, run: Run): void {
  registerCheckpointVerbs(program, run);
  registerProofVerbs(program, run);
}

/** `keygen` makes the signing key, `checkpoint` signs with it. */
function registerCheckpointVerbs(program: Command, run: Run): void {
  program
    .command("keygen")
    .description("write a new Ed25519 checkpoint signing key (mode 0600) and print its verifier key")
    .option("--name <name>", "the key's name (default: the ledger's origin)")
    .option(
      "--out <file>",
      "where to write the private key (default: LEDGER_SIGNING_KEY_FILE, else ./ledger-signing.key)",
    )
    .action(
      run(async (ctx, options: { name?: string; out?: string }) => {
        const name = options.name ?? ctx.config.origin;
        const file = options.out ?? ctx.config.signingKeyFile ?? "ledger-signing.key";
        const key = generateSigningKey(name);
        writeSigningKey(file, key.privateKey);
        ctx.out.result({ ok: true, name, file, verifierKey: key.verifierKey }, () => key.verifierKey);
      }),
    );

  program
    .command("checkpoint")
    .description("sign a checkpoint of the ledger's Merkle tree now (needs LEDGER_SIGNING_KEY_FILE)")
    .option("--out <file>", "also write the signed note to this file")
    .action(
      run(async (ctx, options: { out?: string }) => {
        const ledger = await ctx.ledger();
        const checkpoint = await ledger.checkpoint();
        if (options.out) writeFileSync(options.out, checkpoint.note);
        ctx.out.result({ ok: true, ...checkpoint }, () => checkpoint.note.trimEnd());
      }),
    );
}

/** `prove` writes an event's proof file, `verify-proof` checks one offline. */
function registerProofVerbs(program: Command, run: Run): void {
  program
    .command("prove")
    .description("write a proof file: the event, its inclusion proof and the signed checkpoint")
    .argument("<position>", "the event's position", positiveInt)
    .option("--size <n>", "prove against the stored checkpoint of this size", positiveInt)
    .option("--out <file>", "write the proof here (default: stdout)")
    .action(
      run(async (ctx, position: number, options: { size?: number; out?: string }) => {
        const ledger = await ctx.ledger();
        const proof = await ledger.prove(position, options.size);
        if (!options.out) {
          await ctx.out.write(proof.file);
          return;
        }
        writeFileSync(options.out, proof.file);
        const { size, origin, rootHash } = proof.checkpoint;
        ctx.out.result(
          { ok: true, position, file: options.out, checkpoint: { origin, size, rootHash } },
          () => `proof of position ${position} in the checkpoint of size ${size} written to ${options.out}`,
        );
      }),
    );

  program
    .command("verify-proof")
    .description("check a proof file offline (no database): event hash, inclusion, signature, origin")
    .argument("<file>", "the proof file")
    .requiredOption("--key <verifierKey>", "the log's verifier key, <name>+<key id>+<base64>")
    .option("--origin <origin>", "the log's origin (default: the key's name)")
    .action(
      run(async (ctx, file: string, options: { key: string; origin?: string }) => {
        const verifier = verifierOf(options.key);
        const check = verifyProofFile(readInputFile(file), verifier, options.origin);
        if (!check.ok) {
          if (ctx.out.json) ctx.out.result(check, () => "");
          throw new CliError(`proof rejected: ${check.reason}`, ExitCode.tampered);
        }
        const { position, treeSize, origin, rootHash } = check;
        ctx.out.result(
          { ok: true, position, treeSize, origin, rootHash },
          () =>
            `proof holds: the ${check.event.type} event at position ${position} is in ${origin}'s checkpoint of ${treeSize} events (root ${rootHash})`,
        );
      }),
    );
}
