import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  DETAIL_CODES,
  ERROR_CODES,
  GatewayError,
  WIRE_CODES,
  detailError,
  gatewayUnavailable,
  renderHttpError,
  type DetailCode,
} from '../../src/protocol/errors.js';

/** docs/protocol.md, from the sources (tsx) or from dist/. */
function readProtocolDoc(): string {
  for (const relative of ['../../docs/protocol.md', '../../../docs/protocol.md']) {
    try {
      return readFileSync(fileURLToPath(new URL(relative, import.meta.url)), 'utf8');
    } catch {
      // Try the next layout.
    }
  }
  throw new Error('docs/protocol.md not found');
}

/** Rows (without the header) of each markdown table in the section whose heading starts with `heading`, cells without backticks. */
function sectionTables(doc: string, heading: string): string[][][] {
  const lines = doc.split('\n');
  const start = lines.findIndex((line) => line.startsWith(heading));
  assert.ok(start >= 0, `docs/protocol.md has a "${heading}" section`);
  const tables: string[][][] = [];
  let current: string[][] | undefined;
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,3} /.test(line)) break;
    if (!line.startsWith('|')) {
      current = undefined;
      continue;
    }
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim().replaceAll('`', ''));
    if (cells.every((cell) => /^-+$/.test(cell))) continue;
    if (current === undefined) {
      current = [];
      tables.push(current);
      continue; // the header row
    }
    current.push(cells);
  }
  return tables;
}

describe('the error table', () => {
  const doc = readProtocolDoc();
  const [wireTable = [], detailTable = []] = sectionTables(doc, '### 1.2 ');

  it('is documented in docs/protocol.md §1.2: every wire code with its HTTP rendering', () => {
    const rows = new Map(wireTable.map((cells) => [cells[0], cells]));
    assert.deepEqual([...rows.keys()].sort(), [...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      const [, status, type, httpCode] = rows.get(code) as string[];
      const spec = WIRE_CODES[code];
      assert.equal(Number(status), spec.httpStatus, `${code} HTTP status`);
      assert.equal(type, spec.type, `${code} OpenAI type`);
      assert.equal(httpCode === '—' ? null : httpCode, spec.httpCode, `${code} OpenAI code`);
    }
  });

  it('is documented in docs/protocol.md §1.2: every detail code with its wire code, status and retryability', () => {
    const rows = new Map(detailTable.map((cells) => [cells[0], cells]));
    assert.deepEqual([...rows.keys()].sort(), Object.keys(DETAIL_CODES).sort());
    for (const [detail, spec] of Object.entries(DETAIL_CODES)) {
      const [, wire, status, retryable] = rows.get(detail) as string[];
      assert.equal(wire, spec.code, `${detail} wire code`);
      assert.equal(Number(status), spec.httpStatus, `${detail} HTTP status`);
      assert.equal(retryable, spec.retryable ? 'yes' : 'no', `${detail} retryable`);
    }
  });

  it('builds errors from a detail code: wire code, details.code first, retryable only where a retry helps', () => {
    const limited = detailError('AUTH_RATE_LIMITED', 'slow down', { extra: { authReason: 'rate_limited' }, retryAfterMs: 9_000 });
    assert.deepEqual(limited.toShape(), {
      code: 'INVALID_REQUEST',
      message: 'slow down',
      details: { code: 'AUTH_RATE_LIMITED', authReason: 'rate_limited' },
      retryable: true,
      retryAfterMs: 9_000,
    });
    assert.deepEqual(detailError('RUN_NOT_FOUND', 'unknown run: r').toShape(), {
      code: 'INVALID_REQUEST',
      message: 'unknown run: r',
      details: { code: 'RUN_NOT_FOUND' },
    });
    assert.equal(detailError('MISSING_SCOPE', 'missing scope: operator.write').code, 'FORBIDDEN');
  });

  it('renders every code for HTTP from the table, never as forbidden by default', () => {
    for (const detail of Object.keys(DETAIL_CODES) as DetailCode[]) {
      assert.equal(renderHttpError(detailError(detail, 'x')).status, DETAIL_CODES[detail].httpStatus, detail);
    }
    assert.deepEqual(renderHttpError(new GatewayError('AGENT_TIMEOUT', 'slow')), { status: 504, type: 'server_error', code: 'timeout' });
    assert.deepEqual(renderHttpError(gatewayUnavailable('shutdown')), {
      status: 503,
      type: 'server_error',
      code: 'unavailable',
      retryAfterSeconds: 2,
    });
    assert.equal(renderHttpError(new GatewayError('INVALID_REQUEST', 'bad')).status, 400);
  });
});
