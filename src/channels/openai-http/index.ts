/**
 * The OpenAI-compatible API's face: a `/v1` route whose modules load on the
 * first request, since most gateways never serve it. Off unless
 * `openaiHttp.enabled`.
 */

import { createLazyRoute } from '../../util/lazy-route.js';
import type { ChannelStarter } from '../channel-host.js';
import { isOpenAiHttpPath } from './paths.js';

/** Start the OpenAI-compatible channel on the host. */
export const startOpenAiHttpChannel: ChannelStarter = (host) => {
  // Off: still listed by channels.status, as not configured.
  if (!host.config.openaiHttp.enabled) return { name: 'openai-http', status: () => ({ configured: false, running: false, lastError: null }) };
  let requests = 0;
  let lastRequestAt: number | null = null;
  let lastError: string | null = null;
  const route = createLazyRoute(isOpenAiHttpPath, async () => {
    const { createOpenAiHttpHandler } = await import('./handler.js');
    return createOpenAiHttpHandler({
      assistant: host.assistant,
      getAuthSecret: host.getAuthSecret,
      canonicalize: host.canonicalize,
      agentIds: () => host.agents.ids(),
      logger: host.logger.child({ component: 'openai-http' }),
      rateLimiter: host.authLimiter,
      gate: host.gate,
    });
  });
  host.addRoute(async (req, res) => {
    if (!isOpenAiHttpPath(req.url)) return false;
    requests++;
    lastRequestAt = Date.now();
    try {
      return await route(req, res);
    } catch (error) {
      // The host answers 500 and logs it; the channel remembers it for channels.status.
      lastError = error instanceof Error ? error.message : String(error);
      throw error;
    }
  });
  return {
    name: 'openai-http',
    status: () => ({ configured: true, running: !host.isDraining(), lastError, basePath: '/v1', requests, lastRequestAt }),
  };
};
