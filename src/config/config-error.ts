/** sysexits.h EX_CONFIG: the process stops because its configuration is wrong. */
export const EXIT_CONFIG = 78;

/** Where a config value came from, for error messages. */
export type ConfigSource =
  | { kind: 'file'; path: string }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string }
  | { kind: 'options' };

/**
 * A config problem found at start-up. The message names the field and where it
 * came from (the file path, the environment variable or the flag), never a
 * secret value. The CLI prints the message on one line and exits with `exitCode`.
 */
export class ConfigError extends Error {
  /** Always 78 (EX_CONFIG). */
  readonly exitCode = EXIT_CONFIG;
  /** Dotted field path (`gateway.port`), or undefined when the whole file is at fault. */
  readonly field: string | undefined;
  readonly source: ConfigSource | undefined;

  constructor(message: string, options: { field?: string; source?: ConfigSource; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConfigError';
    this.field = options.field;
    this.source = options.source;
  }
}

/** "in /path/config.json", "from environment variable PINCER_PORT", … */
export function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'file':
      return `in ${source.path}`;
    case 'env':
      return `from environment variable ${source.name}`;
    case 'flag':
      return `from flag ${source.name}`;
    case 'options':
      return 'in the start options';
  }
}
