/**
 * The test MCP server as a stdio child process:
 *   node mcp-stdio-server.js normal|hang|exit-on-start|stubborn [--starts-file PATH]
 * normal: the tools of mcp-test-server.ts. hang: reads stdin, never answers.
 * exit-on-start: prints a reason on stderr and exits 3. stubborn: normal, but
 * ignores SIGTERM and the end of stdin, so only SIGKILL stops it.
 * --starts-file appends this process's pid to PATH on start (to count restarts).
 * With ECHO_ON_STDERR=NAME in its environment it prints `leaked: <value of NAME>` on stderr
 * (a server leaking its credential, for the log redaction test).
 */

import { appendFileSync } from 'node:fs';

const args = process.argv.slice(2);
const mode = args[0];
// `node --test dist/test/` runs every file under test/ (this one too, without arguments): do nothing then.
if (mode === undefined) process.exit(0);
const startsAt = args.indexOf('--starts-file');
if (startsAt !== -1) appendFileSync(args[startsAt + 1] as string, `${process.pid}\n`);

if (mode === 'exit-on-start') {
  process.stderr.write('boom: cannot open the widget database\n');
  process.exit(3);
} else if (mode === 'hang') {
  process.stdin.resume();
  setInterval(() => undefined, 60_000);
} else {
  if (mode === 'stubborn') {
    process.on('SIGTERM', () => undefined);
    setInterval(() => undefined, 60_000);
  }
  process.stderr.write(`test server ${process.pid} starting\n`);
  const echo = process.env.ECHO_ON_STDERR;
  if (echo !== undefined) process.stderr.write(`leaked: ${process.env[echo] ?? ''}\n`);
  // Imported only now, so the failure modes above start (and fail) fast.
  const [{ StdioServerTransport }, { createTestMcpServer }] = await Promise.all([
    import('@modelcontextprotocol/sdk/server/stdio.js'),
    import('./mcp-test-server.js'),
  ]);
  await createTestMcpServer().connect(new StdioServerTransport());
}
