/**
 * An MCP server written with the official SDK, for tests: a fixed set of
 * tools that cover every result kind and failure Pincer must handle. The
 * same server runs over stdio (mcp-stdio-server.ts, as a child process) and
 * over HTTP (startMcpHttpServer: Streamable HTTP and/or the older SSE
 * transport on 127.0.0.1).
 */

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { CallToolRequestSchema, ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';

/** A 1×1 PNG. */
export const TEST_PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

const obj = (properties: Record<string, object>, required: string[] = []): Tool['inputSchema'] => ({ type: 'object', properties, required });

/** Every tool of the test server, as tools/list returns them. */
export const TEST_TOOLS: Tool[] = [
  { name: 'echo', description: 'Echo the text back.', inputSchema: obj({ text: { type: 'string' } }, ['text']) },
  { name: 'add', description: 'Add two numbers.', inputSchema: obj({ a: { type: 'number' }, b: { type: 'number' } }, ['a', 'b']) },
  { name: 'structured_only', description: 'Only structured content.', inputSchema: obj({}) },
  { name: 'picture', description: 'A tiny image.', inputSchema: obj({}) },
  { name: 'fail', description: 'Always reports an error result.', inputSchema: obj({}) },
  { name: 'throw', description: 'Answers with a JSON-RPC error.', inputSchema: obj({}) },
  { name: 'big', description: 'Lots of text.', inputSchema: obj({ bytes: { type: 'integer' } }, ['bytes']) },
  { name: 'slow', description: 'Waits, then answers.', inputSchema: obj({ ms: { type: 'integer' } }, ['ms']) },
  { name: 'crash', description: 'Exits the server process mid-call.', inputSchema: obj({}) },
  { name: 'env', description: 'Environment variable names, and one value.', inputSchema: obj({ name: { type: 'string' } }) },
  { name: 'pid', description: 'The server process id.', inputSchema: obj({}) },
  { name: 'spawn_child', description: 'Start a long sleep in the background; returns its pid.', inputSchema: obj({}) },
  { name: 'add_tool', description: 'Adds the tool "late" and announces the change.', inputSchema: obj({}) },
  { name: 'admin_reset', description: 'A tool the tests filter out.', inputSchema: obj({}) },
  { name: 'dotted.name', description: 'A name providers refuse as it is.', inputSchema: obj({}) },
  {
    name: 'tricky',
    description: 'A schema with everything providers dislike.',
    inputSchema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: { Point: { type: 'object', properties: { x: { type: 'number' }, y: { type: 'number' } }, required: ['x', 'y'] } },
      properties: { at: { $ref: '#/$defs/Point', description: 'where' } },
      anyOf: [
        { properties: { name: { type: 'string' } }, required: ['name'] },
        { properties: { id: { type: 'integer' } }, required: ['id'] },
      ],
    } as Tool['inputSchema'],
  },
];

const LATE_TOOL: Tool = { name: 'late', description: 'Added at run time.', inputSchema: obj({}) };

/** Build one server instance (one per connection). `onExit` replaces process.exit for in-process servers. */
export function createTestMcpServer(options: { onCrash?: () => void } = {}): Server {
  const server = new Server({ name: 'pincer-test-server', version: '1.0.0' }, { capabilities: { tools: { listChanged: true } } });
  const tools = [...TEST_TOOLS];
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    const args = (request.params.arguments ?? {}) as Record<string, unknown>;
    switch (request.params.name) {
      case 'echo':
        return { content: [{ type: 'text', text: `echo: ${String(args.text)}` }] };
      case 'add': {
        const sum = Number(args.a) + Number(args.b);
        return { content: [{ type: 'text', text: String(sum) }], structuredContent: { sum } };
      }
      case 'structured_only':
        return { content: [], structuredContent: { ok: true, items: [1, 2] } };
      case 'picture':
        return { content: [{ type: 'text', text: 'a picture:' }, { type: 'image', data: TEST_PNG_BASE64, mimeType: 'image/png' }] };
      case 'fail':
        return { content: [{ type: 'text', text: 'the widget is broken' }], isError: true };
      case 'throw':
        throw new Error('kaput');
      case 'big':
        return { content: [{ type: 'text', text: 'x'.repeat(Number(args.bytes)) }] };
      case 'slow':
        await new Promise((resolve) => setTimeout(resolve, Number(args.ms)));
        return { content: [{ type: 'text', text: 'done' }] };
      case 'crash':
        if (options.onCrash !== undefined) options.onCrash();
        else process.exit(1);
        return { content: [] };
      case 'env': {
        const name = typeof args.name === 'string' ? args.name : '';
        return { content: [{ type: 'text', text: JSON.stringify({ names: Object.keys(process.env).sort(), value: process.env[name] ?? null }) }] };
      }
      case 'pid':
        return { content: [{ type: 'text', text: String(process.pid) }] };
      case 'spawn_child': {
        const child = spawn('sleep', ['300'], { stdio: 'ignore' });
        child.unref();
        return { content: [{ type: 'text', text: String(child.pid) }] };
      }
      case 'add_tool':
        if (!tools.includes(LATE_TOOL)) tools.push(LATE_TOOL);
        await server.sendToolListChanged();
        return { content: [{ type: 'text', text: 'added' }] };
      case 'late':
        return { content: [{ type: 'text', text: 'late tool ran' }] };
      case 'admin_reset':
      case 'dotted.name':
      case 'tricky':
        return { content: [{ type: 'text', text: `${request.params.name} ran with ${JSON.stringify(args)}` }] };
      default:
        return { content: [{ type: 'text', text: `unknown tool ${request.params.name}` }], isError: true };
    }
  });
  return server;
}

export interface McpHttpServer {
  /** Streamable HTTP endpoint: http://127.0.0.1:<port>/mcp */
  readonly url: string;
  /** Old SSE transport endpoint: http://127.0.0.1:<port>/sse */
  readonly sseUrl: string;
  /** Requests refused for a missing or wrong Authorization header. */
  readonly unauthorized: number;
  /** Sessions opened, by transport. */
  readonly sessions: { streamable: number; sse: number };
  /** Headers of every request, in order. */
  readonly requestHeaders: IncomingMessage['headers'][];
  close(): Promise<void>;
}

/**
 * Serve the test server over HTTP on 127.0.0.1. `transports` picks which
 * endpoints answer (the other answers 404, as an old server would for /mcp);
 * with `bearer`, every request needs `Authorization: Bearer <bearer>`.
 */
export async function startMcpHttpServer(options: { transports?: ('streamable' | 'sse')[]; bearer?: string } = {}): Promise<McpHttpServer> {
  const transports = options.transports ?? ['streamable', 'sse'];
  const streamable = new Map<string, StreamableHTTPServerTransport>();
  const sse = new Map<string, SSEServerTransport>();
  const sessions = { streamable: 0, sse: 0 };
  const requestHeaders: IncomingMessage['headers'][] = [];
  let unauthorized = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requestHeaders.push(req.headers);
    if (options.bearer !== undefined && req.headers.authorization !== `Bearer ${options.bearer}`) {
      unauthorized++;
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/mcp' && transports.includes('streamable')) {
      const sessionId = req.headers['mcp-session-id'];
      let transport = typeof sessionId === 'string' ? streamable.get(sessionId) : undefined;
      if (transport === undefined) {
        if (typeof sessionId === 'string') {
          res.writeHead(404).end();
          return;
        }
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            streamable.set(id, created);
            sessions.streamable++;
          },
        });
        created.onclose = () => {
          if (created.sessionId !== undefined) streamable.delete(created.sessionId);
        };
        await createTestMcpServer({ onCrash: () => undefined }).connect(created);
        transport = created;
      }
      await transport.handleRequest(req, res);
      return;
    }
    if (url.pathname === '/sse' && req.method === 'GET' && transports.includes('sse')) {
      const transport = new SSEServerTransport('/messages', res);
      sse.set(transport.sessionId, transport);
      sessions.sse++;
      res.on('close', () => sse.delete(transport.sessionId));
      await createTestMcpServer({ onCrash: () => undefined }).connect(transport);
      return;
    }
    if (url.pathname === '/messages' && req.method === 'POST' && transports.includes('sse')) {
      const transport = sse.get(url.searchParams.get('sessionId') ?? '');
      if (transport === undefined) {
        res.writeHead(404).end();
        return;
      }
      await transport.handlePostMessage(req, res);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}/mcp`,
    sseUrl: `${base}/sse`,
    get unauthorized() {
      return unauthorized;
    },
    sessions,
    requestHeaders,
    async close() {
      for (const transport of [...streamable.values(), ...sse.values()]) await transport.close().catch(() => undefined);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
