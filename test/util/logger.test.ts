import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LoggerOptions } from '../../src/util/logger.js';
import { createLogger, resolveLogFormat } from '../../src/util/logger.js';

function capture(options: LoggerOptions = {}) {
  const lines: string[] = [];
  const logger = createLogger({ now: () => 1234, ...options, write: (line) => lines.push(line) });
  const records = (): Record<string, unknown>[] => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, records };
}

describe('createLogger', () => {
  it('writes one JSON object per line with level, time and msg', () => {
    const { logger, lines, records } = capture();
    logger.info('hello', { port: 1 });
    assert.equal(lines.length, 1);
    assert.ok(lines[0].endsWith('\n'));
    assert.deepEqual(records()[0], { level: 'info', time: 1234, msg: 'hello', port: 1 });
  });

  it('drops records below the level', () => {
    const { logger, records } = capture({ level: 'warn' });
    logger.trace('a');
    logger.debug('b');
    logger.info('c');
    logger.warn('d');
    logger.error('e');
    logger.fatal('f');
    assert.deepEqual(records().map((record) => record.msg), ['d', 'e', 'f']);
    assert.equal(logger.isLevelEnabled('info'), false);
    assert.equal(logger.isLevelEnabled('error'), true);
  });

  it('writes nothing when silent', () => {
    const { logger, lines } = capture({ level: 'silent' });
    logger.fatal('x');
    assert.equal(lines.length, 0);
  });

  it('adds child bindings to every record', () => {
    const { logger, records } = capture({ bindings: { app: 'pincer' } });
    logger.child({ component: 'gateway' }).child({ connId: 'c1' }).info('x');
    assert.deepEqual(records()[0], { level: 'info', time: 1234, msg: 'x', app: 'pincer', component: 'gateway', connId: 'c1' });
  });

  it('redacts secret-looking keys at any depth', () => {
    const { logger, lines, records } = capture();
    logger.info('auth', {
      token: 'T1',
      headers: { authorization: 'Bearer T2', Cookie: 'c=T3' },
      auth: { password: 'T4', deviceToken: 'T5' },
      provider: { apiKey: 'T6', api_key: 'T7' },
      tokenFile: '/state/token',
      usage: { inputTokens: 10 },
    });
    const text = lines.join('');
    for (const secret of ['T1', 'T2', 'T3', 'T4', 'T5', 'T6', 'T7']) assert.ok(!text.includes(secret), `${secret} leaked`);
    const record = records()[0];
    assert.equal(record.tokenFile, '/state/token');
    assert.deepEqual(record.usage, { inputTokens: 10 });
  });

  it('redacts secrets in child bindings', () => {
    const { logger, lines } = capture();
    logger.child({ password: 'hunter2' }).info('x');
    assert.ok(!lines.join('').includes('hunter2'));
  });

  it('serialises errors and survives cycles', () => {
    const { logger, records } = capture();
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    const error = Object.assign(new Error('boom'), { code: 'EBOOM' });
    logger.error('failed', { err: error, loop });
    const record = records()[0];
    const err = record.err as Record<string, unknown>;
    assert.equal(err.message, 'boom');
    assert.equal(err.code, 'EBOOM');
    assert.equal(typeof err.stack, 'string');
    assert.deepEqual(record.loop, { name: 'loop', self: '[circular]' });
  });

  it('never throws when the destination fails', () => {
    const logger = createLogger({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    assert.doesNotThrow(() => logger.error('x'));
  });
});

describe('createLogger({ format: "pretty" })', () => {
  it('writes time, level, message and key=value fields on one line, secrets redacted', () => {
    const { logger, lines } = capture({ format: 'pretty', now: () => new Date(2026, 0, 2, 3, 4, 5, 6).getTime() });
    logger.child({ component: 'gateway' }).info('gateway listening', { url: 'http://127.0.0.1:1', note: 'two words', token: 'secret', n: 3 });
    assert.deepEqual(lines, ['03:04:05.006 INFO  gateway listening component=gateway url=http://127.0.0.1:1 note="two words" token=[redacted] n=3\n']);
  });

  it('puts an error message inline and its stack on indented lines below warnings', () => {
    const { logger, lines } = capture({ format: 'pretty' });
    const error = new Error('boom');
    logger.error('cleanup failed', { err: error });
    const [first, ...rest] = lines[0].trimEnd().split('\n');
    assert.match(first, /^\d\d:\d\d:\d\d\.\d{3} ERROR cleanup failed err=boom$/);
    assert.ok(rest.length > 0 && rest.every((line) => line.startsWith('    at ')), lines[0]);
  });
});

describe('resolveLogFormat', () => {
  it('picks pretty for a terminal and JSON otherwise, unless told', () => {
    assert.equal(resolveLogFormat('auto', true), 'pretty');
    assert.equal(resolveLogFormat('auto', false), 'json');
    assert.equal(resolveLogFormat('json', true), 'json');
    assert.equal(resolveLogFormat('pretty', false), 'pretty');
  });
});
