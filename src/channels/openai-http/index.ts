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
  if (!host.config.openaiHttp.enabled) return undefined;
  host.addRoute(
    createLazyRoute(isOpenAiHttpPath, async () => {
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
    }),
  );
  return { name: 'openai-http' };
};
