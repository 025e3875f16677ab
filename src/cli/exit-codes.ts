/** Exit codes of DESIGN.md "CLI contract". */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  invalid: 2,
  rejected: 3,
  conflict: 4,
  tampered: 5,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that already knows its exit code and its one-line message. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}
