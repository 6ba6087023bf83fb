/** `pincer gateway`: start the gateway in the foreground until SIGTERM/SIGINT. */

import type { ConfigFlags } from '../config/load-config.js';
import { handleShutdownSignals } from '../gateway/shutdown-signals.js';
import { startPincer } from '../main.js';
import { isLogLevel } from '../util/logger.js';
import { numberOption, stringOption } from './option-parsers.js';

/**
 * Start the gateway with the parsed flags. `websocketFromCli` is true only
 * when --no-websocket was typed, so the file and env can still decide otherwise.
 * Throws ConfigError / ListenError for the CLI to report.
 */
export async function runGateway(options: Record<string, unknown>, websocketFromCli: boolean): Promise<void> {
  const logLevel = stringOption(options, 'logLevel');
  const flags: ConfigFlags = {
    host: stringOption(options, 'host'),
    port: numberOption(options, 'port'),
    token: stringOption(options, 'token'),
    password: stringOption(options, 'password'),
    configPath: stringOption(options, 'config'),
    stateDir: stringOption(options, 'stateDir'),
    logLevel: isLogLevel(logLevel) ? logLevel : undefined,
    websocket: websocketFromCli ? options.websocket === true : undefined,
  };
  const pincer = await startPincer({ flags });

  process.on('uncaughtException', (error) => {
    pincer.logger.fatal('uncaught exception', { err: error });
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    pincer.logger.error('unhandled rejection', { err: reason });
  });
  handleShutdownSignals({
    drain: (reason) => pincer.drain(reason),
    drainTimeoutMs: pincer.config.gateway.drainTimeoutMs,
    logger: pincer.logger,
  });

  if (pincer.generatedToken !== undefined) {
    const { path, token } = pincer.generatedToken;
    // The one place a secret is shown: on the operator's own terminal, once, at first run.
    process.stdout.write(
      `Pincer: generated a gateway token in ${path}. Open ${pincer.url}/#token=${token} or, for WebClaw, set CLAWDBOT_GATEWAY_TOKEN=${token}\n`,
    );
  }
}
