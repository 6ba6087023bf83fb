import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hermeticEnv, makeTempHome, runCli } from '../helpers/spawn-cli.js';

interface JsonFinding {
  id: string;
  severity: 'info' | 'warn' | 'critical';
  message: string;
  fix?: string;
}

const homes: string[] = [];
after(async () => {
  await Promise.all(homes.map((home) => rm(home, { recursive: true, force: true })));
});

/** A temp HOME with a 0700 state dir and, when given, a 0600 config file in it. */
async function setup(config?: Record<string, unknown>): Promise<{ home: string; stateDir: string; configPath: string }> {
  const home = await makeTempHome();
  homes.push(home);
  const stateDir = join(home, 'state');
  await mkdir(stateDir, { mode: 0o700 });
  await chmod(stateDir, 0o700);
  const configPath = join(stateDir, 'config.json');
  if (config !== undefined) {
    await writeFile(configPath, JSON.stringify(config), { mode: 0o600 });
    await chmod(configPath, 0o600);
  }
  return { home, stateDir, configPath };
}

async function doctorJson(home: string, stateDir: string, extraEnv: Record<string, string> = {}) {
  const result = await runCli(['doctor', '--json', '--state-dir', stateDir], hermeticEnv(home, extraEnv));
  const report = JSON.parse(result.stdout) as { ok: boolean; enabledTools: string[]; findings: JsonFinding[] };
  return { result, report, ids: report.findings.map((finding) => finding.id) };
}

describe('pincer doctor', () => {
  it('finds nothing critical in a default setup, exits 0 and creates no file', async () => {
    const { home, stateDir } = await setup();
    const { result, report } = await doctorJson(home, stateDir);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.findings.map((finding) => [finding.id, finding.severity]),
      [['auth.token-file-missing', 'info']],
    );
    assert.ok(report.enabledTools.length > 0 && !report.enabledTools.includes('exec'), 'exec is off by default');
    // It never starts the gateway: no token file, no sessions, nothing written.
    assert.deepEqual(await readdir(stateDir), []);
  });

  it('flags every dangerous setting with its id and severity, and exits 1', async () => {
    const shortToken = 'abc123';
    const { home, stateDir, configPath } = await setup({
      gateway: { host: '0.0.0.0', allowedOrigins: ['*'] },
      auth: { token: shortToken },
      tools: { exec: { enabled: true }, webFetch: { allowPrivateNetwork: true } },
    });
    await chmod(configPath, 0o644);
    await chmod(stateDir, 0o755);
    const { result, report } = await doctorJson(home, stateDir);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(report.ok, false);
    const bySeverity = Object.fromEntries(report.findings.map((finding) => [finding.id, finding.severity]));
    assert.deepEqual(bySeverity, {
      'gateway.allow-all-origins': 'critical',
      'auth.short-secret': 'critical',
      'fs.state-dir-open': 'critical',
      'fs.config-readable': 'critical',
      'tools.exec-enabled': 'critical',
      'gateway.non-loopback-bind': 'warn',
      'tools.web-fetch-private-network': 'warn',
    });
    assert.ok(report.enabledTools.includes('exec'));
    // Most severe first; every problem says how to fix it.
    assert.deepEqual(
      report.findings.map((finding) => finding.severity),
      ['critical', 'critical', 'critical', 'critical', 'critical', 'warn', 'warn'],
    );
    for (const finding of report.findings) assert.ok(finding.fix, `${finding.id} has a fix`);
    assert.ok(!result.stdout.includes(shortToken) && !result.stderr.includes(shortToken), 'the secret is never printed');
  });

  it('flags a world-readable token file and a short secret from the environment', async () => {
    const { home, stateDir } = await setup();
    const tokenPath = join(stateDir, 'token');
    await writeFile(tokenPath, 'x'.repeat(43), { mode: 0o644 });
    await chmod(tokenPath, 0o644);
    const fromFile = await doctorJson(home, stateDir);
    assert.equal(fromFile.result.code, 1);
    assert.deepEqual(fromFile.ids, ['fs.token-file-readable']);

    await chmod(tokenPath, 0o600);
    const envToken = 'twenty-chars-secret!';
    const fromEnv = await doctorJson(home, stateDir, { PINCER_TOKEN: envToken });
    assert.equal(fromEnv.result.code, 0, 'a 20-char secret is a warning, not critical');
    assert.deepEqual(
      fromEnv.report.findings.map((finding) => [finding.id, finding.severity]),
      [['auth.short-secret', 'warn']],
    );
    assert.ok(!fromEnv.result.stdout.includes(envToken));
  });

  it('flags a non-loopback host without a configured secret as critical, as the gateway refuses it', async () => {
    const { home, stateDir } = await setup({ gateway: { host: '0.0.0.0' } });
    const { result, report } = await doctorJson(home, stateDir);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.findings.filter((finding) => finding.id.startsWith('gateway.')).map((finding) => [finding.id, finding.severity]),
      [['gateway.non-loopback-without-secret', 'critical']],
    );
    const gateway = await runCli(['gateway', '--state-dir', stateDir, '--port', '0'], hermeticEnv(home));
    assert.equal(gateway.code, 78, 'the gateway refuses the same setting');
  });

  it('flags a workspace equal to, containing or inside the state directory, which the gateway refuses', async () => {
    for (const workspaceDir of ['.', '..', 'sessions']) {
      const { home, stateDir } = await setup({ agent: { workspaceDir } });
      const { result, report } = await doctorJson(home, stateDir);
      assert.equal(result.code, 1, `${workspaceDir}: ${result.stderr}`);
      const finding = report.findings.find((entry) => entry.id === 'agent.workspace-holds-state');
      assert.equal(finding?.severity, 'critical', workspaceDir);
      const gateway = await runCli(['gateway', '--state-dir', stateDir, '--port', '0'], hermeticEnv(home));
      assert.equal(gateway.code, 78, workspaceDir);
      assert.match(gateway.stderr, /^pincer: invalid agent\.workspaceDir in .*config\.json: .* cannot be the workspace because it (is|contains|is inside) the state directory/);
    }
  });

  it('reports which exec containment is in force, and a demanded bwrap that cannot run as critical', async () => {
    const none = await setup({ tools: { exec: { enabled: true, sandbox: 'none' } } });
    const noneReport = await doctorJson(none.home, none.stateDir);
    assert.equal((noneReport.report as { execSandbox?: string }).execSandbox, 'process-group');
    assert.match(noneReport.report.findings.find((f) => f.id === 'tools.exec-enabled')!.message, /no sandbox \(tools\.exec\.sandbox is "none"\)/);

    // No bwrap on this PATH: "auto" falls back, "bwrap" is refused by doctor and by the gateway alike.
    const noBwrap = { PATH: '/nonexistent' };
    const auto = await setup({ tools: { exec: { enabled: true } } });
    const autoReport = await doctorJson(auto.home, auto.stateDir, noBwrap);
    assert.equal(autoReport.result.code, 0, autoReport.result.stderr);
    assert.equal((autoReport.report as { execSandbox?: string }).execSandbox, 'process-group');
    const demanded = await setup({ tools: { exec: { enabled: true, sandbox: 'bwrap' } } });
    const demandedReport = await doctorJson(demanded.home, demanded.stateDir, noBwrap);
    assert.equal(demandedReport.result.code, 1);
    assert.ok(demandedReport.ids.includes('tools.exec-sandbox-unavailable'));
    const gateway = await runCli(['gateway', '--state-dir', demanded.stateDir, '--port', '0'], hermeticEnv(demanded.home, noBwrap));
    assert.equal(gateway.code, 78, gateway.stderr);
    assert.match(gateway.stderr, /tools\.exec\.sandbox is "bwrap" but bwrap is not installed/);
  });

  it('warns about exec on a loopback-only gateway without failing', async () => {
    const { home, stateDir } = await setup({ tools: { exec: { enabled: true } } });
    const { result, report } = await doctorJson(home, stateDir);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      report.findings.filter((finding) => finding.id.startsWith('tools.')).map((finding) => [finding.id, finding.severity]),
      [['tools.exec-enabled', 'warn']],
    );
  });

  it('prints a readable report without --json', async () => {
    const { home, stateDir } = await setup({ gateway: { allowedOrigins: ['*'] } });
    const result = await runCli(['doctor', '--state-dir', stateDir], hermeticEnv(home));
    assert.equal(result.code, 1);
    assert.match(result.stdout, /^enabled tools: (\w+, )*read_file(, \w+)*$/m);
    assert.match(result.stdout, /^CRITICAL gateway\.allow-all-origins: /m);
    assert.match(result.stdout, /^\s+fix: /m);
    assert.match(result.stdout, /1 critical, 0 warnings, 1 info\n$/);
  });

  it('is listed in the help, and its own help needs no config', async () => {
    const { home, stateDir, configPath } = await setup();
    await writeFile(configPath, 'not json');
    const top = await runCli(['--help'], hermeticEnv(home));
    assert.match(top.stdout, /^\s+doctor\b/m);
    const own = await runCli(['doctor', '--help', '--state-dir', stateDir], hermeticEnv(home));
    assert.equal(own.code, 0, own.stderr);
    assert.match(own.stdout, /--json/);
  });

  it('reports a broken config with the config exit code and one line', async () => {
    const { home, stateDir, configPath } = await setup();
    await writeFile(configPath, '{"gateway": {"port": "nope"}}');
    const result = await runCli(['doctor', '--state-dir', stateDir], hermeticEnv(home));
    assert.equal(result.code, 78);
    assert.match(result.stderr, /^pincer: invalid gateway\.port/);
    assert.equal(result.stdout, '');
  });

  it('flags a Telegram bot open to anyone (dmPolicy open), and not one behind pairing', async () => {
    const token = '123456789:AAFakeTokenForTestsOnly_abcdefghijk';
    const open = await setup({ channels: { telegram: { enabled: true, botToken: token, dmPolicy: 'open', allowFrom: ['*'] } } });
    const flagged = await doctorJson(open.home, open.stateDir);
    const finding = flagged.report.findings.find((entry) => entry.id === 'channels.telegram.dm-policy-open');
    assert.equal(finding?.severity, 'warn', JSON.stringify(flagged.report.findings));
    assert.match(finding?.fix ?? '', /pairing/);
    const paired = await setup({ channels: { telegram: { enabled: true, botToken: token } } });
    const quiet = await doctorJson(paired.home, paired.stateDir);
    assert.ok(!quiet.ids.some((id) => id.startsWith('channels.telegram')), quiet.ids.join(', '));
  });
});
