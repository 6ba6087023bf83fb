/** How the CLI turns a failure into one line on stderr and an exit code. */

/** sysexits.h EX_USAGE: bad flags or arguments. */
export const EXIT_USAGE = 64;
export const EXIT_FAILURE = 1;

/**
 * Print `pincer: <message>` (never a stack trace) and return the exit code:
 * the error's own `exitCode` when it has one (ConfigError: 78), else 1.
 */
export function reportCliError(error: unknown): number {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`pincer: ${firstLine(message)}\n`);
  if (typeof error === 'object' && error !== null && 'exitCode' in error && typeof error.exitCode === 'number') {
    return error.exitCode;
  }
  return EXIT_FAILURE;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.trim() === '' ? 'unknown error' : line;
}
