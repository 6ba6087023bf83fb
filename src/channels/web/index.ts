/**
 * The built-in web chat's face: serves its static files. The page speaks the
 * OpenClaw protocol like any client, so it needs nothing else from the host.
 */

import type { ChannelStarter } from '../channel-host.js';
import { createWebHandler, defaultWebAssetsDir } from './serve-web.js';

/** Serve the web chat on the host. */
export const startWebChannel: ChannelStarter = (host) => {
  host.addRoute(createWebHandler({ assetsDir: defaultWebAssetsDir() }));
  return { name: 'web', status: () => ({ configured: true, running: !host.isDraining(), lastError: null, basePath: '/' }) };
};
