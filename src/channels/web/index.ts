/**
 * The web channel's face: serves the built-in web chat and, when configured,
 * a Control UI build. Both pages speak the OpenClaw protocol like any client,
 * so they need nothing else from the host.
 */

import type { ChannelStarter } from '../channel-host.js';
import { createControlUiHandler } from './serve-control-ui.js';
import { createWebHandler, defaultWebAssetsDir } from './serve-web.js';

/** Serve the web chat on the host, and a Control UI build when `gateway.controlUi.root` names one. */
export const startWebChannel: ChannelStarter = (host) => {
  host.addRoute(createWebHandler({ assetsDir: defaultWebAssetsDir() }));
  const { root, basePath } = host.config.gateway.controlUi;
  if (root !== undefined) host.addRoute(createControlUiHandler({ root, basePath }));
  return { name: 'web' };
};
