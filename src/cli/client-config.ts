/**
 * The config a client command (status, cron, pairing) uses to find the
 * gateway: the same loader as `gateway`, fed the shared connection flags.
 */

import { loadConfig } from '../config/load-config.js';
import type { PincerConfig } from '../config/schema.js';
import { numberOption, stringOption } from './option-parsers.js';

/** Load the config with --host, --port, --state-dir and --config applied. */
export function loadClientConfig(options: Record<string, unknown>): PincerConfig {
  return loadConfig({
    flags: {
      host: stringOption(options, 'host'),
      port: numberOption(options, 'port'),
      stateDir: stringOption(options, 'stateDir'),
      configPath: stringOption(options, 'config'),
    },
  });
}
