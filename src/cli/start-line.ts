/**
 * The one line `pincer gateway` prints on stdout once it is ready, on every
 * start: version, URL, web chat, where the secret is, and the model. It shows
 * the token itself only on the first run, when this start generated it.
 */

import { describeMissingProviderKey } from '../config/provider-key.js';
import type { PincerHandle } from '../main.js';

const SEPARATOR = ' · ';

/** `Pincer: 0.1.0 listening on http://127.0.0.1:18789 · web chat … · token in … · model openai/gpt-4o-mini`. */
export function formatStartLine(pincer: PincerHandle): string {
  const parts = [`Pincer: ${pincer.version} listening on ${pincer.url}`];
  const generated = pincer.generatedToken;
  const webChat = pincer.config.gateway.websocket ? `${pincer.url}/` : undefined;
  if (generated !== undefined) {
    // The one place a secret is shown: on the operator's own terminal, once, at first run.
    if (webChat !== undefined) parts.push(`web chat ${webChat}#token=${generated.token}`);
    parts.push(`generated a gateway token in ${generated.path} (for WebClaw, set CLAWDBOT_GATEWAY_TOKEN=${generated.token})`);
  } else {
    if (webChat !== undefined) parts.push(`web chat ${webChat}`);
    parts.push(describeSecret(pincer));
  }
  if (!pincer.config.gateway.websocket) parts.push('WebSocket off (--no-websocket)');
  parts.push(describeModel(pincer));
  return parts.join(SEPARATOR);
}

function describeSecret(pincer: PincerHandle): string {
  if (pincer.tokenFilePath !== undefined) return `token in ${pincer.tokenFilePath} (print it with: pincer token)`;
  return pincer.authMode === 'password' ? 'auth.password is configured' : 'auth.token is configured';
}

function describeModel(pincer: PincerHandle): string {
  const provider = pincer.config.provider;
  if (provider === undefined) return 'no model configured (set PINCER_PROVIDER and PINCER_MODEL)';
  const where = provider.baseUrl === undefined ? '' : ` at ${provider.baseUrl}`;
  const missingKey = describeMissingProviderKey(pincer.config);
  return `model ${provider.kind}/${provider.model}${where}${missingKey === undefined ? '' : `; warning: ${missingKey}`}`;
}
