/**
 * One live connection to one MCP server, through the official SDK: start the
 * transport (a child process over stdio, or Streamable HTTP falling back to
 * SSE), initialize, list every tool (all pages) and call tools. The SDK is
 * imported here, on the first connection, so a gateway without MCP servers
 * never loads it.
 */

import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { buildChildEnv } from '../config/child-env.js';
import type { McpRemoteServerConfig, McpServerConfig, McpStdioServerConfig } from '../config/mcp-config.js';
import { ChildStdioTransport } from './stdio-transport.js';
import type { McpCallResult } from './tool-result.js';

/** Pages of tools/list read at most; a server that keeps paging is cut off there. */
const MAX_TOOL_PAGES = 50;
/** Waiting time before a tools/list_changed notification triggers a refresh, so bursts cost one listing (ms). */
const LIST_CHANGED_DEBOUNCE_MS = 100;
/** JSON-RPC error code the SDK uses for a request that timed out. */
const REQUEST_TIMEOUT_CODE = -32001;

type Sdk = Awaited<ReturnType<typeof loadSdk>>;
let sdkLoading: Promise<Sdk> | undefined;

/** Import the SDK parts this file uses, once. */
function loadSdk() {
  return Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('@modelcontextprotocol/sdk/client/sse.js'),
    import('@modelcontextprotocol/sdk/types.js'),
  ]).then(([client, streamable, sse, types]) => ({
    Client: client.Client,
    StreamableHTTPClientTransport: streamable.StreamableHTTPClientTransport,
    SSEClientTransport: sse.SSEClientTransport,
    JSONRPCMessageSchema: types.JSONRPCMessageSchema,
  }));
}

export interface McpConnectionEvents {
  /** The server said its tool list changed (debounced). */
  onToolsChanged(): void;
  /** The transport closed: the process exited or the connection ended. Not called after close(). */
  onClosed(reason: string): void;
  /** A stderr line of a local server. */
  onStderrLine?(line: string): void;
}

export interface McpConnectOptions {
  /** `version` sent as clientInfo. */
  clientVersion: string;
  /** Working directory of a local server without its own cwd. */
  defaultCwd: string;
  events: McpConnectionEvents;
}

export interface McpConnection {
  /** The transport in use (after any fallback). */
  readonly transport: 'stdio' | 'streamable-http' | 'sse';
  /** PID of a local server. */
  readonly pid: number | undefined;
  /** Every tool the server lists (unfiltered), following pagination. */
  listTools(timeoutMs: number): Promise<Tool[]>;
  /**
   * Call a tool. Resolves with the server's result (which may have isError);
   * rejects on a protocol error, a timeout (McpCallTimeout), an abort or a lost connection.
   */
  callTool(name: string, args: Record<string, unknown>, options: { timeoutMs: number; signal: AbortSignal }): Promise<McpCallResult>;
  /** Close the connection; a local server's process group is stopped. Never rejects. */
  close(): Promise<void>;
}

/** A tool call that ran out of time. */
export class McpCallTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${formatMs(timeoutMs)}`);
    this.name = 'McpCallTimeout';
  }
}

/**
 * Start and initialize a server, within `config.connectionTimeoutMs`. Throws
 * with a readable message (including a local server's last stderr lines);
 * nothing is left running after a throw.
 */
export async function connectMcpServer(config: McpServerConfig, options: McpConnectOptions): Promise<McpConnection> {
  sdkLoading ??= loadSdk();
  const sdk = await sdkLoading;
  if (config.transport === 'stdio') return connectStdio(sdk, config, options);
  try {
    return await connectRemote(sdk, config, config.transport, options);
  } catch (error) {
    if (!config.sseFallback) throw error;
    try {
      return await connectRemote(sdk, config, 'sse', options);
    } catch (sseError) {
      throw new Error(`Streamable HTTP failed (${errorText(error)}), and so did SSE (${errorText(sseError)})`, { cause: error });
    }
  }
}

async function connectStdio(sdk: Sdk, config: McpStdioServerConfig, options: McpConnectOptions): Promise<McpConnection> {
  const transport = new ChildStdioTransport({
    command: config.command,
    args: config.args,
    env: buildChildEnv(config.env),
    cwd: config.cwd ?? options.defaultCwd,
    parseMessage: (line) => sdk.JSONRPCMessageSchema.parse(JSON.parse(line)),
    onStderrLine: options.events.onStderrLine,
  });
  const describeExit = (): string => {
    const exit = transport.exit;
    const how = exit === undefined ? 'closed its output' : exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
    const tail = transport.stderrTail.slice(-3).join(' | ');
    return tail === '' ? `the server process ${how}` : `the server process ${how}: ${tail}`;
  };
  return initialize(sdk, transport, 'stdio', config, options, describeExit, () => transport.pid);
}

async function connectRemote(
  sdk: Sdk,
  config: McpRemoteServerConfig,
  kind: 'streamable-http' | 'sse',
  options: McpConnectOptions,
): Promise<McpConnection> {
  const url = new URL(config.url);
  const requestInit = { headers: { ...config.headers } };
  const transport: Transport =
    kind === 'sse' ? new sdk.SSEClientTransport(url, { requestInit }) : new sdk.StreamableHTTPClientTransport(url, { requestInit });
  return initialize(sdk, transport, kind, config, options, () => 'the connection to the server closed', () => undefined);
}

async function initialize(
  sdk: Sdk,
  transport: Transport,
  kind: McpConnection['transport'],
  config: McpServerConfig,
  options: McpConnectOptions,
  describeClose: () => string,
  pid: () => number | undefined,
): Promise<McpConnection> {
  let closing = false;
  // Before initialize succeeds a close is reported by connect() rejecting; onClosed is for later losses.
  let connected = false;
  const client: Client = new sdk.Client(
    { name: 'pincer', version: options.clientVersion },
    {
      capabilities: {},
      listChanged: {
        tools: { autoRefresh: false, debounceMs: LIST_CHANGED_DEBOUNCE_MS, onChanged: () => options.events.onToolsChanged() },
      },
    },
  );
  client.onclose = () => {
    if (connected && !closing) options.events.onClosed(describeClose());
  };
  // Transport errors surface on the pending request (or as onclose); nothing more to do here.
  client.onerror = () => undefined;
  const close = async (): Promise<void> => {
    closing = true;
    try {
      await client.close();
    } catch {
      // Closing a broken transport may fail; the process group is killed either way.
    }
    await transport.close().catch(() => undefined);
  };
  try {
    await client.connect(transport, { timeout: config.connectionTimeoutMs });
    connected = true;
  } catch (error) {
    await close();
    throw new Error(closedOr(error, describeClose), { cause: error });
  }
  return {
    transport: kind,
    get pid() {
      return pid();
    },
    async listTools(timeoutMs) {
      const tools: Tool[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < MAX_TOOL_PAGES; page++) {
        const result = await client.listTools(cursor === undefined ? {} : { cursor }, { timeout: timeoutMs });
        tools.push(...result.tools);
        cursor = result.nextCursor;
        if (cursor === undefined) break;
      }
      return tools;
    },
    async callTool(name, args, { timeoutMs, signal }) {
      // The SDK leaves its listener on the signal it is given; a run's signal serves many calls, so each gets its own.
      const local = new AbortController();
      const onAbort = (): void => local.abort(signal.reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      try {
        return (await client.callTool({ name, arguments: args }, undefined, { timeout: timeoutMs, signal: local.signal })) as McpCallResult;
      } catch (error) {
        if (isObject(error) && error.code === REQUEST_TIMEOUT_CODE) throw new McpCallTimeout(timeoutMs);
        throw error;
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
    close,
  };
}

/** A failed initialize is usually the server dying: say how, rather than "Connection closed". */
function closedOr(error: unknown, describeClose: () => string): string {
  const text = errorText(error);
  // The SDK's HTTP errors carry the status in `code` only.
  if (isObject(error) && typeof error.code === 'number' && error.code >= 400 && error.code <= 599) return `HTTP ${error.code}: ${text}`;
  if (/connection closed|not running|EPIPE/i.test(text)) return describeClose();
  if (isObject(error) && error.code === REQUEST_TIMEOUT_CODE) return 'the server did not answer initialize in time';
  return text;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
