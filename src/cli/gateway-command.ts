/** `pincer gateway`: start the gateway in the foreground until SIGTERM/SIGINT. */

import type { ConfigFlags } from '../config/load-config.js';
import { loadConfig } from '../config/load-config.js';
import { handleShutdownSignals } from '../gateway/shutdown-signals.js';
import { StartCancelledError, startPincer, type PincerHandle } from '../main.js';
import { createLogger, isLogLevel, resolveLogFormat } from '../util/logger.js';
import type { LogFormatName } from '../config/schema.js';
import { LOG_FORMAT_NAMES } from '../config/schema.js';
import { formatStartLine } from './start-line.js';
import { numberOption, stringOption } from './option-parsers.js';
import { takeShutdownSignals } from './signal-guard.js';
import { applyGatewayHeapPolicy } from '../util/heap-policy.js';

/**
 * Start the gateway with the parsed flags. `websocketFromCli` is true only
 * when --no-websocket was typed, so the file and env can still decide otherwise.
 * Throws ConfigError / ListenError for the CLI to report.
 *
 * A signal at any moment, start-up included, drains and exits 0: during
 * start-up the start stops at its next step and closes what it opened.
 */
export async function runGateway(options: Record<string, unknown>, websocketFromCli: boolean): Promise<void> {
  const signals = takeShutdownSignals();
  applyGatewayHeapPolicy();
  const logLevel = stringOption(options, 'logLevel');
  const flags: ConfigFlags = {
    host: stringOption(options, 'host'),
    port: numberOption(options, 'port'),
    token: stringOption(options, 'token'),
    password: stringOption(options, 'password'),
    configPath: stringOption(options, 'config'),
    stateDir: stringOption(options, 'stateDir'),
    logLevel: isLogLevel(logLevel) ? logLevel : undefined,
    logFormat: isLogFormat(options.logFormat) ? options.logFormat : undefined,
    websocket: websocketFromCli ? options.websocket === true : undefined,
  };
  const config = loadConfig({ flags });
  const logger = createLogger({ level: config.logLevel, format: resolveLogFormat(config.logFormat, process.stderr.isTTY === true) });
  const stop = new AbortController();
  let starting: Promise<PincerHandle | undefined> | undefined;

  handleShutdownSignals({
    drain: async (reason) => {
      stop.abort(reason);
      const pincer = await starting?.catch(() => undefined);
      await pincer?.drain(reason);
    },
    drainTimeoutMs: config.gateway.drainTimeoutMs,
    logger,
    target: signals,
  });
  logger.debug('gateway starting', { pid: process.pid, stateDir: config.stateDir });

  starting = startPincer({ config, loadOptions: { flags }, logger, signal: stop.signal }).catch((error: unknown) => {
    if (error instanceof StartCancelledError) return undefined;
    throw error;
  });
  const pincer = await starting;
  // Cancelled by a signal: the signal handler finishes the drain and exits 0.
  if (pincer === undefined) return;

  process.on('uncaughtException', (error) => {
    pincer.logger.fatal('uncaught exception', { err: error });
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    pincer.logger.error('unhandled rejection', { err: reason });
  });

  process.stdout.write(`${formatStartLine(pincer)}\n`);
}

function isLogFormat(value: unknown): value is LogFormatName {
  return typeof value === 'string' && (LOG_FORMAT_NAMES as readonly string[]).includes(value);
}
