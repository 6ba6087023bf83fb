/**
 * Build the enabled built-in tools from the config: the ToolSet the
 * composition root (assistant.ts) hands to the agent service.
 */

import { enabledToolNames } from './enabled-tools.js';
import type { BuiltinToolName } from './enabled-tools.js';
import type { AgentTool } from './agent-tool.js';
import { resolveContainment } from './exec-containment.js';
import { createExecTool } from './exec-tool.js';
import { createFileTools } from './file-tools.js';
import { createToolSet } from './tool-set.js';
import type { ToolSet } from './tool-set.js';
import { createWebFetchTool } from './web-fetch-tool.js';
import { Workspace, type ProtectedArea } from './workspace-path.js';
import type { PincerConfig } from '../../config/schema.js';

/** Tools built outside agent/ because they need parts wired later (the scheduler). */
export interface ExtraTools {
  cron?: AgentTool;
}

/**
 * The ToolSet of every tool `config.tools` enables, working in
 * `config.agent.workspaceDir`. `protectedAreas` are the gateway's own files
 * (token, config, sessions), refused by every file tool wherever they are.
 * An enabled tool listed in ExtraTools but not supplied is left out.
 */
export function createBuiltinTools(config: Pick<PincerConfig, 'tools' | 'agent'>, protectedAreas: readonly ProtectedArea[] = [], extra: ExtraTools = {}): ToolSet {
  const { tools } = config;
  const workspace = new Workspace(config.agent.workspaceDir, protectedAreas);
  const files = createFileTools(workspace);
  const build: Record<BuiltinToolName, () => AgentTool | undefined> = {
    read_file: () => files.readFile,
    write_file: () => files.writeFile,
    edit_file: () => files.editFile,
    list_dir: () => files.listDir,
    exec: () =>
      createExecTool(workspace, {
        timeoutMs: tools.exec.timeoutMs,
        maxOutputBytes: tools.exec.maxOutputBytes,
        envNames: tools.exec.env,
        containment: resolveContainment(tools.exec.sandbox),
        hiddenPaths: protectedAreas.map((area) => area.path),
        network: tools.exec.network,
      }),
    web_fetch: () =>
      createWebFetchTool({
        allowPrivateNetwork: tools.webFetch.allowPrivateNetwork,
        timeoutMs: tools.webFetch.timeoutMs,
        maxBytes: tools.webFetch.maxBytes,
      }),
    cron: () => extra.cron,
  };
  const built = enabledToolNames(config).map((name) => build[name]());
  return createToolSet(built.filter((tool): tool is AgentTool => tool !== undefined));
}
