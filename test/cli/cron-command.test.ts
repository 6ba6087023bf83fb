import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hermeticEnv, makeTempHome, runCli } from '../helpers/spawn-cli.js';
import { startGateway, type StartedGateway } from '../helpers/start-gateway.js';

describe('pincer cron', () => {
  let gateway: StartedGateway;
  let env: Record<string, string>;
  let target: string[];
  before(async () => {
    gateway = await startGateway();
    env = hermeticEnv(await makeTempHome(), { PINCER_TOKEN: gateway.token });
    target = ['--host', '127.0.0.1', '--port', String(gateway.port)];
  });
  after(async () => {
    await gateway.close();
  });

  it('adds, lists, runs and removes a job on the running gateway', async () => {
    const added = await runCli(['cron', 'add', 'every 1h', 'Check the build', '--name', 'build check', '--no-deliver', ...target], env);
    assert.equal(added.code, 0, added.stderr);
    const id = /^added (\S+) "build check" \(every 3600000 ms\): next run \d{4}-/.exec(added.stdout)?.[1];
    assert.ok(id, added.stdout);

    const at = await runCli(['cron', 'add', '--cron', '0 7 * * 1-5', '--tz', 'Europe/Vienna', '--message', 'Morning brief', '--json', ...target], env);
    assert.equal(at.code, 0, at.stderr);
    const brief = JSON.parse(at.stdout);
    assert.deepEqual(brief.schedule, { kind: 'cron', expr: '0 7 * * 1-5', tz: 'Europe/Vienna' });

    const list = await runCli(['cron', 'list', ...target], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^ID\s+NAME\s+SCHEDULE\s+NEXT RUN\s+LAST\s+ENABLED$/m);
    assert.match(list.stdout, new RegExp(`^${id}\\s+build check\\s+every 3600000 ms`, 'm'));
    assert.match(list.stdout, /cron 0 7 \* \* 1-5 \(Europe\/Vienna\)/);

    const run = await runCli(['cron', 'run', id, ...target], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^started run \\S+ of ${id}$`, 'm'));

    const removed = await runCli(['cron', 'rm', id, ...target], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal(removed.stdout, `removed ${id}\n`);
    const again = await runCli(['cron', 'rm', id, ...target], env);
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `pincer: no job with id ${id}\n`);
  });

  it('reports the gateway refusal, naming the field, with exit 1', async () => {
    const bad = await runCli(['cron', 'add', '--cron', '61 * * * *', '--message', 'x', ...target], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^pincer: invalid cron\.add params: schedule\.expr invalid cron expression "61 \* \* \* \*"/);
    const past = await runCli(['cron', 'add', '--at', '2001-01-01T00:00:00Z', '--message', 'x', ...target], env);
    assert.match(past.stderr, /^pincer: invalid cron\.add params: schedule\.at is in the past/);
    const both = await runCli(['cron', 'add', '--at', '20m', '--every', '1h', '--message', 'x', ...target], env);
    assert.match(both.stderr, /^pincer: give exactly one schedule/);
  });

  it('says so when no gateway is running', async () => {
    const result = await runCli(['cron', 'list', '--host', '127.0.0.1', '--port', '1'], env);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^pincer: no gateway is listening at ws:\/\/127\.0\.0\.1:1/);
  });
});
