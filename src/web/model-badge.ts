/** The model name in the header, from the gateway's `status` (sessions.defaults.model). */

import type { GatewayClient } from './gateway-client.js';

/** Ask the gateway which model it runs and show it; "No model" when none is configured. */
export async function showModel(client: GatewayClient, badge: HTMLElement): Promise<void> {
  try {
    const payload: unknown = await client.request('status', {});
    const model = readModel(payload);
    badge.textContent = model ?? 'No model';
    badge.dataset['state'] = model === null ? 'none' : 'set';
    badge.title = model === null ? 'No model is configured: set PINCER_PROVIDER and PINCER_MODEL on the gateway' : `Model: ${model}`;
  } catch {
    badge.textContent = '';
  }
}

function readModel(payload: unknown): string | null {
  if (typeof payload !== 'object' || payload === null || !('sessions' in payload)) return null;
  const sessions = payload.sessions;
  if (typeof sessions !== 'object' || sessions === null || !('defaults' in sessions)) return null;
  const defaults = sessions.defaults;
  if (typeof defaults !== 'object' || defaults === null || !('model' in defaults)) return null;
  return typeof defaults.model === 'string' && defaults.model !== '' ? defaults.model : null;
}
