/**
 * Every configured MCP server for the life of the gateway: started in the
 * background at gateway start (never delaying /ready), restarted with
 * backoff when it crashes or cannot be reached (its tools are left out of
 * model requests meanwhile), its tool list refreshed on tools/list_changed,
 * and every child stopped on drain, or killed when the process exits.
 * Calls of its tools never throw: failures become error results.
 */

import type { McpConfig, McpServerConfig } from '../config/mcp-config.js';
import type { ToolOutcome } from '../agent/tool-types.js';
import type { ToolSpec } from '../providers/types.js';
import type { Logger } from '../util/logger.js';
import { connectMcpServer, errorText, McpCallTimeout } from './mcp-connection.js';
import type { McpConnection } from './mcp-connection.js';
import { killAllStdioServers } from './stdio-transport.js';
import { toToolOutcome } from './tool-result.js';
import { exposedToolName, isToolAllowed } from './tool-names.js';
import { cleanToolSchema } from './tool-schema.js';
import { redactValues, secretValuesOf } from './secret-values.js';

/** First wait before a restart; doubled per failure in a row (ms). */
export const MCP_RESTART_BASE_MS = 500;
/** Longest wait between restarts (ms). */
export const MCP_RESTART_MAX_MS = 60_000;
/** A connection that lasted this long resets the backoff: the next crash restarts quickly again (ms). */
const STABLE_CONNECTION_MS = 30_000;

export type McpServerState = 'disabled' | 'starting' | 'ready' | 'restarting' | 'stopped';

/** One tool as dashboards and the CLI see it. */
export interface McpToolView {
  /** The name the model sees, `<server>__<tool>`. */
  name: string;
  /** The server's own name for it. */
  mcpName: string;
  description: string;
}

/** A server's state as dashboards and the CLI see it: no env, no headers. */
export interface McpServerView {
  name: string;
  transport: 'stdio' | 'streamable-http' | 'sse';
  state: McpServerState;
  /** The model is offered these only while `state` is ready. */
  tools: McpToolView[];
  /** Tools the server lists that toolFilter hides. */
  filteredOut: number;
  /** Why the last start or the last connection failed (secrets redacted). */
  lastError?: string;
  /** Restarts after a crash or a failed start. */
  restarts: number;
  /** Epoch ms of the next start attempt while restarting. */
  nextAttemptAt?: number;
  pid?: number;
}

export interface McpManagerOptions {
  config: McpConfig;
  logger: Logger;
  /** Sent to servers as clientInfo.version. */
  clientVersion: string;
  /** Working directory of local servers without their own cwd (the agent's workspace). */
  defaultCwd: string;
}

export interface McpManager {
  /** Tool specs of every ready server, in config order. */
  tools(): ToolSpec[];
  /** True when `name` is (or was) an MCP tool name, so the caller routes the call here. */
  owns(name: string): boolean;
  /** Run one call; never rejects. */
  callTool(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutcome>;
  /** Every configured server. */
  servers(): McpServerView[];
  /** Resolve once no server is starting (each start is bounded by its connectionTimeoutMs). */
  whenSettled(): Promise<void>;
  /** Stop every server and wait for the children to exit. Idempotent. */
  close(): Promise<void>;
}

interface ExposedTool {
  spec: ToolSpec;
  mcpName: string;
}

/** Build the manager and start every enabled server in the background. */
export function startMcpManager(options: McpManagerOptions): McpManager {
  const entries = Object.entries(options.config.servers).map(([name, config]) => new ServerSlot(name, config, options));
  const byToolName = new Map<string, ServerSlot>();
  const onExit = (): void => void killAllStdioServers();
  process.once('exit', onExit);
  for (const slot of entries) slot.start();
  let closing: Promise<void> | undefined;
  return {
    tools: () => entries.flatMap((slot) => slot.specs()),
    owns(name) {
      if (byToolName.has(name)) return true;
      const slot = entries.find((candidate) => candidate.exposes(name));
      if (slot !== undefined) byToolName.set(name, slot);
      return slot !== undefined;
    },
    callTool(name, args, signal) {
      const slot = byToolName.get(name) ?? entries.find((candidate) => candidate.exposes(name));
      if (slot === undefined) return Promise.resolve(errorOutcome(`unknown tool: ${name}`));
      return slot.call(name, args, signal);
    },
    servers: () => entries.map((slot) => slot.view()),
    whenSettled: () => Promise.all(entries.map((slot) => slot.settled())).then(() => undefined),
    close() {
      closing ??= Promise.all(entries.map((slot) => slot.stop())).then(() => {
        process.off('exit', onExit);
      });
      return closing;
    },
  };
}

/** One server: its connection, its tools and its restart schedule. */
class ServerSlot {
  readonly #name: string;
  readonly #config: McpServerConfig;
  readonly #options: McpManagerOptions;
  readonly #logger: Logger;
  readonly #secrets: string[];
  #state: McpServerState;
  #connection: McpConnection | undefined;
  #tools: ExposedTool[] = [];
  /** Every exposed name this server ever listed, so a call to a tool of a crashed server gets a clear answer. */
  readonly #knownNames = new Set<string>();
  #filteredOut = 0;
  #lastError: string | undefined;
  #restarts = 0;
  #failuresInRow = 0;
  #connectedAt = 0;
  #retryTimer: NodeJS.Timeout | undefined;
  #nextAttemptAt: number | undefined;
  #starting: Promise<void> | undefined;
  /** Bumped on every (re)connect and on stop, so callbacks of an old connection are ignored. */
  #generation = 0;

  constructor(name: string, config: McpServerConfig, options: McpManagerOptions) {
    this.#name = name;
    this.#config = config;
    this.#options = options;
    this.#logger = options.logger.child({ server: name });
    this.#secrets = secretValuesOf(config);
    this.#state = config.enabled ? 'starting' : 'disabled';
  }

  start(): void {
    if (this.#state === 'disabled' || this.#state === 'stopped') return;
    this.#starting = this.#connect();
  }

  specs(): ToolSpec[] {
    return this.#state === 'ready' ? this.#tools.map((tool) => tool.spec) : [];
  }

  exposes(name: string): boolean {
    return this.#knownNames.has(name);
  }

  settled(): Promise<void> {
    return this.#starting ?? Promise.resolve();
  }

  view(): McpServerView {
    const view: McpServerView = {
      name: this.#name,
      transport: this.#connection?.transport ?? this.#config.transport,
      state: this.#state,
      tools: this.#tools.map((tool) => ({ name: tool.spec.name, mcpName: tool.mcpName, description: tool.spec.description })),
      filteredOut: this.#filteredOut,
      restarts: this.#restarts,
    };
    if (this.#lastError !== undefined) view.lastError = this.#lastError;
    if (this.#state === 'restarting' && this.#nextAttemptAt !== undefined) view.nextAttemptAt = this.#nextAttemptAt;
    const pid = this.#connection?.pid;
    if (pid !== undefined && this.#state === 'ready') view.pid = pid;
    return view;
  }

  async call(name: string, args: Record<string, unknown>, signal: AbortSignal): Promise<ToolOutcome> {
    const tool = this.#tools.find((candidate) => candidate.spec.name === name);
    const connection = this.#connection;
    if (this.#state !== 'ready' || connection === undefined || tool === undefined) {
      return errorOutcome(this.#unavailableText(tool === undefined && this.#state === 'ready'));
    }
    const generation = this.#generation;
    try {
      const result = await connection.callTool(tool.mcpName, args, { timeoutMs: this.#config.timeoutMs, signal });
      return toToolOutcome(result, this.#options.config.maxOutputBytes);
    } catch (error) {
      if (signal.aborted) return errorOutcome('aborted: the run was stopped before this tool finished');
      if (error instanceof McpCallTimeout) {
        this.#logger.warn('mcp tool call timed out', { tool: tool.mcpName, timeoutMs: this.#config.timeoutMs });
        return errorOutcome(`tool ${name} timed out: MCP server ${this.#name} gave ${error.message}`);
      }
      const text = this.#redact(errorText(error));
      // A remote server that cannot be reached any more is reconnected like a crashed process.
      if (this.#config.transport !== 'stdio' && isConnectionFailure(error) && generation === this.#generation) this.#lost(text);
      if (generation !== this.#generation) return errorOutcome(`tool ${name} failed: ${this.#unavailableText(false)}`);
      return errorOutcome(`tool ${name} failed: ${text}`);
    }
  }

  async stop(): Promise<void> {
    this.#generation++;
    this.#state = this.#state === 'disabled' ? 'disabled' : 'stopped';
    clearTimeout(this.#retryTimer);
    const connection = this.#connection;
    this.#connection = undefined;
    await connection?.close();
  }

  async #connect(): Promise<void> {
    const generation = ++this.#generation;
    const startedAt = Date.now();
    this.#state = 'starting';
    this.#nextAttemptAt = undefined;
    let connection: McpConnection | undefined;
    try {
      connection = await connectMcpServer(this.#config, {
        clientVersion: this.#options.clientVersion,
        defaultCwd: this.#options.defaultCwd,
        events: {
          onToolsChanged: () => {
            if (generation === this.#generation) void this.#refresh(generation);
          },
          onClosed: (reason) => {
            if (generation === this.#generation) this.#lost(this.#redact(reason));
          },
          onStderrLine: (line) => this.#logger.debug('mcp server stderr', { line: this.#redact(line) }),
        },
      });
      if (generation !== this.#generation) {
        await connection.close();
        return;
      }
      this.#connection = connection;
      const remaining = Math.max(1, this.#config.connectionTimeoutMs - (Date.now() - startedAt));
      this.#setTools(await connection.listTools(remaining));
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#connection = undefined;
      await connection?.close();
      this.#failed(this.#redact(errorText(error)));
      return;
    }
    if (generation !== this.#generation) return;
    this.#state = 'ready';
    this.#connectedAt = Date.now();
    this.#lastError = undefined;
    this.#logger.info('mcp server ready', {
      transport: connection.transport,
      tools: this.#tools.length,
      filteredOut: this.#filteredOut,
      ms: Date.now() - startedAt,
    });
  }

  async #refresh(generation: number): Promise<void> {
    const connection = this.#connection;
    if (connection === undefined || this.#state !== 'ready') return;
    try {
      const tools = await connection.listTools(this.#config.connectionTimeoutMs);
      if (generation !== this.#generation) return;
      this.#setTools(tools);
      this.#logger.info('mcp tool list changed', { tools: this.#tools.length });
    } catch (error) {
      this.#logger.warn('mcp tool list refresh failed; keeping the previous list', { err: this.#redact(errorText(error)) });
    }
  }

  #setTools(tools: readonly { name: string; description?: string; inputSchema?: unknown }[]): void {
    const kept = tools.filter((tool) => typeof tool.name === 'string' && isToolAllowed(tool.name, this.#config.toolFilter));
    this.#filteredOut = tools.length - kept.length;
    const seen = new Set<string>();
    this.#tools = [];
    for (const tool of kept) {
      const name = exposedToolName(this.#name, tool.name);
      if (seen.has(name)) continue;
      seen.add(name);
      this.#knownNames.add(name);
      const description = typeof tool.description === 'string' && tool.description.trim() !== '' ? tool.description : `Tool ${tool.name} of MCP server ${this.#name}.`;
      this.#tools.push({ mcpName: tool.name, spec: { name, description, parameters: cleanToolSchema(tool.inputSchema) } });
    }
  }

  /** The connection of a ready server ended: mark its tools unavailable and restart. */
  #lost(reason: string): void {
    if (this.#state === 'stopped') return;
    const connection = this.#connection;
    this.#connection = undefined;
    this.#generation++;
    void connection?.close();
    if (Date.now() - this.#connectedAt >= STABLE_CONNECTION_MS) this.#failuresInRow = 0;
    this.#logger.warn('mcp server connection lost', { reason });
    this.#failed(reason);
  }

  #failed(reason: string): void {
    this.#lastError = reason;
    const delayMs = Math.min(MCP_RESTART_MAX_MS, MCP_RESTART_BASE_MS * 2 ** this.#failuresInRow);
    this.#failuresInRow++;
    this.#state = 'restarting';
    this.#nextAttemptAt = Date.now() + delayMs;
    this.#logger.warn('mcp server unavailable; restarting', { err: reason, retryInMs: delayMs, restarts: this.#restarts });
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => {
      this.#restarts++;
      this.start();
    }, delayMs);
    this.#retryTimer.unref();
  }

  #unavailableText(toolGone: boolean): string {
    if (toolGone) return `MCP server ${this.#name} no longer offers this tool`;
    if (this.#state === 'restarting') {
      const inS = Math.max(0, Math.ceil(((this.#nextAttemptAt ?? Date.now()) - Date.now()) / 1000));
      return `MCP server ${this.#name} is unavailable (${this.#lastError ?? 'not connected'}); it restarts in ${inS} s, try again later`;
    }
    if (this.#state === 'starting') return `MCP server ${this.#name} is still starting; try again shortly`;
    return `MCP server ${this.#name} is ${this.#state}`;
  }

  #redact(text: string): string {
    return redactValues(text, this.#secrets);
  }
}

function errorOutcome(text: string): ToolOutcome {
  return { content: [{ type: 'text', text }], isError: true };
}

/** fetch failures, HTTP errors of the transport and closed connections, as opposed to errors the server answered with. */
function isConnectionFailure(error: unknown): boolean {
  if (/^(Streamable HTTP error|SSE error)|fetch failed|ECONNREFUSED|ECONNRESET|socket hang up|not connected/i.test(errorText(error))) return true;
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === -32000;
}
