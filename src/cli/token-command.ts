/** `pincer token [--rotate]`: print or replace the generated gateway token. */

import { loadConfig } from '../config/load-config.js';
import { ensureTokenFile, rotateTokenFile } from '../config/token-file.js';
import { removeDeviceTokens } from '../security/device-token-store.js';
import { stringOption } from './option-parsers.js';

/** Print the token on stdout (alone, for scripts); notes go to stderr. */
export async function runToken(options: Record<string, unknown>): Promise<void> {
  const config = loadConfig({
    flags: { stateDir: stringOption(options, 'stateDir'), configPath: stringOption(options, 'config') },
  });
  if (config.auth.token !== undefined || config.auth.password !== undefined) {
    const which = config.auth.token !== undefined ? 'a token' : 'a password';
    throw new Error(
      `${which} is configured (config file, PINCER_TOKEN/PINCER_PASSWORD or flags), so the token file is not used; change the secret where it is set`,
    );
  }
  if (options.rotate === true) {
    const file = await rotateTokenFile(config.stateDir);
    // Device tokens were issued under the old secret; a running gateway drops its copies at the next connect.
    await removeDeviceTokens(config.stateDir);
    process.stdout.write(`${file.token}\n`);
    process.stderr.write(
      `pincer: wrote a new token to ${file.path} and revoked every device token; a running gateway accepts only this token from its next connection\n`,
    );
    return;
  }
  const file = await ensureTokenFile(config.stateDir);
  for (const warning of file.warnings) process.stderr.write(`pincer: ${warning}\n`);
  if (file.created) process.stderr.write(`pincer: generated a new token in ${file.path}\n`);
  process.stdout.write(`${file.token}\n`);
}
