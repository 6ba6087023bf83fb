#!/usr/bin/env node
/**
 * The `pincer` command line. Kept import-light: only commander loads here;
 * each command's module (and the gateway with it) is imported when that
 * command runs, so `--help` and `--version` never touch the config.
 */

// First: holds SIGTERM/SIGINT from the very start, before anything else loads.
import { releaseShutdownSignals } from './signal-guard.js';
import { Command, CommanderError, Option } from 'commander';
import { LOG_LEVELS } from '../util/logger.js';
import { readPackageVersion } from '../util/package-info.js';
import { reportCliError, EXIT_USAGE } from './cli-errors.js';
import { parsePort } from './option-parsers.js';

const GATEWAY_HELP = `
Examples:
  $ pincer gateway                        start on 127.0.0.1:18789 with a generated token
  $ pincer gateway --port 18790           use another port
  $ PINCER_TOKEN=<secret> pincer gateway --host 0.0.0.0
                                          listen on every interface (needs a configured secret)
  $ pincer gateway --no-websocket         serve /health and /ready only

Configuration, lowest precedence first:
  defaults < config file (<state-dir>/config.json, or --config) < environment < flags
Environment:
  PINCER_STATE_DIR PINCER_HOST PINCER_PORT PINCER_TOKEN PINCER_PASSWORD PINCER_LOG_LEVEL PINCER_LOG_FORMAT
  PINCER_PROVIDER PINCER_BASE_URL PINCER_API_KEY PINCER_MODEL
Prefer PINCER_TOKEN or the config file over --token: flags show up in the process list.
`;

const STATUS_HELP = `
Prints one line and exits 0 when the gateway is ready, 1 otherwise.

Examples:
  $ pincer status
  $ pincer status --port 18790
`;

const TOKEN_HELP = `
Prints the token of the generated token file (creating it if needed).
With --rotate, writes a new one; a running gateway accepts only the new token
from its next connection.

Examples:
  $ pincer token
  $ pincer token --rotate
`;

const DOCTOR_HELP = `
Checks the config and the state directory for dangerous settings (non-loopback
bind, short secret, files other users can read, allow-all origins). Never
starts the gateway and never changes a file. Configured MCP servers are
started once to list their tools, then stopped. Exits 1 on a critical finding.

Examples:
  $ pincer doctor
  $ pincer doctor --json
`;

const CRON_HELP = `
Talks to the running gateway (cron.* methods), which validates and stores every
change in <state-dir>/cron/jobs.json; start it first with \`pincer gateway\`.

Examples:
  $ pincer cron list --all
  $ pincer cron add 20m "Remind me to stretch" --session main
  $ pincer cron add --cron "0 7 * * 1-5" --tz Europe/Vienna --message "Summarise my inbox file" --name "Morning brief"
  $ pincer cron add --every 1h --message "Check the build" --no-deliver
  $ pincer cron run <job-id>
  $ pincer cron rm <job-id>
`;

const PAIRING_HELP = `
Approves who may send the Telegram bot direct messages (dmPolicy "pairing"):
an unknown sender gets a code; approve it here. Talks to the running gateway
(channels.pairing.* methods); start it first with \`pincer gateway\`.

Examples:
  $ pincer pairing list
  $ pincer pairing approve telegram ABCD2345
`;

const MCP_LIST_HELP = `
Starts each configured MCP server (mcp.servers) once, prints its state and the
tools the model gets from it (after toolFilter), then stops it. Needs no
running gateway. Exits 1 when an enabled server does not start.

Examples:
  $ pincer mcp list
  $ pincer mcp list --json
`;

function buildProgram(): Command {
  const program = new Command('pincer')
    .description('A small, fast and secure gateway for a personal AI assistant (OpenClaw gateway protocol).')
    .version(readPackageVersion(), '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help and exit')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'pincer: ')) })
    .showSuggestionAfterError(true);

  program
    .command('gateway')
    .description('start the gateway (HTTP health/ready and the OpenClaw WebSocket on one port)')
    .option('--host <host>', 'address to bind (default 127.0.0.1; non-loopback needs a token or password)')
    .addOption(new Option('--port <port>', 'port to listen on (default 18789)').argParser(parsePort))
    .option('--token <token>', 'shared token clients must present (default: generated, in <state-dir>/token)')
    .option('--password <password>', 'shared password instead of a token')
    .option('--config <path>', 'config file (default <state-dir>/config.json)')
    .option('--state-dir <dir>', 'state directory (default ~/.pincer, or PINCER_STATE_DIR)')
    .addOption(new Option('--log-level <level>', 'log level (default info)').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'auto (default: readable lines on a terminal, JSON otherwise), pretty or json').choices(['auto', 'pretty', 'json']))
    .option('--no-websocket', 'serve HTTP health/ready only; refuse WebSocket upgrades')
    .option('--enable-websocket', 'accepted for compatibility and ignored (the WebSocket is on by default)')
    .addHelpText('after', GATEWAY_HELP)
    .action(async (options: Record<string, unknown>, command: Command) => {
      const { runGateway } = await import('./gateway-command.js');
      await runGateway(options, command.getOptionValueSource('websocket') === 'cli');
    });

  program
    .command('token')
    .description('print the generated gateway token, or replace it with --rotate')
    .option('--rotate', 'generate a new token and write it to the token file')
    .option('--config <path>', 'config file (default <state-dir>/config.json)')
    .option('--state-dir <dir>', 'state directory (default ~/.pincer, or PINCER_STATE_DIR)')
    .addHelpText('after', TOKEN_HELP)
    .action(async (options: Record<string, unknown>) => {
      releaseShutdownSignals();
      const { runToken } = await import('./token-command.js');
      await runToken(options);
    });

  program
    .command('status')
    .description("ask a running gateway's /ready and print a one-line summary")
    .option('--host <host>', 'gateway host (default from config, else 127.0.0.1)')
    .addOption(new Option('--port <port>', 'gateway port (default from config, else 18789)').argParser(parsePort))
    .option('--config <path>', 'config file (default <state-dir>/config.json)')
    .option('--state-dir <dir>', 'state directory (default ~/.pincer, or PINCER_STATE_DIR)')
    .addHelpText('after', STATUS_HELP)
    .action(async (options: Record<string, unknown>) => {
      releaseShutdownSignals();
      const { runStatus } = await import('./status-command.js');
      await runStatus(options);
    });

  program
    .command('doctor')
    .description('report dangerous settings (exit 1 on a critical finding); never starts the gateway')
    .option('--json', 'print the findings as JSON')
    .option('--config <path>', 'config file (default <state-dir>/config.json)')
    .option('--state-dir <dir>', 'state directory (default ~/.pincer, or PINCER_STATE_DIR)')
    .addHelpText('after', DOCTOR_HELP)
    .action(async (options: Record<string, unknown>) => {
      releaseShutdownSignals();
      const { runDoctor } = await import('./doctor-command.js');
      await runDoctor(options);
    });

  const cron = program
    .command('cron')
    .description('list, add, run and remove scheduled jobs on the running gateway')
    .addHelpText('after', CRON_HELP);
  const connection = (command: Command): Command =>
    command
      .option('--host <host>', 'gateway host (default from config, else 127.0.0.1)')
      .addOption(new Option('--port <port>', 'gateway port (default from config, else 18789)').argParser(parsePort))
      .option('--config <path>', 'config file (default <state-dir>/config.json)')
      .option('--state-dir <dir>', 'state directory (default ~/.pincer, or PINCER_STATE_DIR)')
      .option('--json', 'print the gateway answer as JSON');
  connection(cron.command('list').description('list enabled jobs').option('--all', 'include disabled jobs')).action(async (options: Record<string, unknown>) => {
    const { runCronList } = await import('./cron-command.js');
    await runCronList(options);
  });
  connection(
    cron
      .command('add')
      .description('add a job: a schedule ("0 9 * * 1", "every 1h", "20m", an ISO time) and a message for the agent')
      .argument('[schedule]', 'cron expression, "every <duration>", a delay such as 20m, or an ISO-8601 time')
      .argument('[message]', 'what the agent is asked when the job fires')
      .option('--at <when>', 'one time: an ISO-8601 time (UTC unless it has an offset) or a delay such as 20m')
      .option('--every <duration>', 'repeat every 30s, 10m, 1h, 1d, …')
      .option('--cron <expr>', '5- or 6-field cron expression')
      .option('--tz <zone>', 'IANA time zone of --cron (default: the gateway host zone)')
      .option('--message <text>', 'the agent message (instead of the positional one)')
      .option('--system-event <text>', 'a note run in the main session instead of a message')
      .option('--name <name>', 'job name (default: the start of the message)')
      .option('--session <target>', 'main, isolated (default for messages) or session:<key>')
      .option('--announce', 'deliver the reply to the main session (default for isolated jobs)')
      .option('--no-deliver', 'keep the reply in the run session only')
      .option('--keep-after-run', 'keep a one-time job after it succeeded (disabled)')
      .option('--disabled', 'add the job disabled'),
  ).action(async (schedule: string | undefined, message: string | undefined, options: Record<string, unknown>) => {
    const { runCronAdd } = await import('./cron-command.js');
    await runCronAdd(schedule, message, options);
  });
  connection(cron.command('rm').alias('remove').description('remove a job').argument('<id>', 'job id')).action(async (id: string, options: Record<string, unknown>) => {
    const { runCronRemove } = await import('./cron-command.js');
    await runCronRemove(id, options);
  });
  connection(
    cron.command('run').description('run a job now (it answers at once; see the result with cron list or cron.runs)').argument('<id>', 'job id').option('--due', 'run only if the job is due'),
  ).action(async (id: string, options: Record<string, unknown>) => {
    const { runCronRun } = await import('./cron-command.js');
    await runCronRun(id, options);
  });
  const pairing = program.command('pairing').description('list and approve DM pairing requests on the running gateway').addHelpText('after', PAIRING_HELP);
  connection(pairing.command('list').description('list pending requests').argument('[channel]', 'only this channel (telegram)')).action(
    async (channel: string | undefined, options: Record<string, unknown>) => {
      const { runPairingList } = await import('./pairing-command.js');
      await runPairingList(channel, options);
    },
  );
  connection(pairing.command('approve').description('approve the sender holding a code').argument('<channel>', 'the channel (telegram)').argument('<code>', 'the code the sender was given')).action(
    async (channel: string, code: string, options: Record<string, unknown>) => {
      const { runPairingApprove } = await import('./pairing-command.js');
      await runPairingApprove(channel, code, options);
    },
  );
  const mcp = program.command('mcp').description('inspect the configured MCP servers');
  mcp
    .command('list')
    .description('start each MCP server once and list its state and tools')
    .option('--json', 'print the servers as JSON')
    .option('--config <path>', 'config file (default <state-dir>/config.json)')
    .option('--state-dir <dir>', 'state directory (default ~/.pincer, or PINCER_STATE_DIR)')
    .addHelpText('after', MCP_LIST_HELP)
    .action(async (options: Record<string, unknown>) => {
      const { runMcpList } = await import('./mcp-command.js');
      await runMcpList(options);
    });

  return program;
}

/** Parse argv and run; sets process.exitCode instead of throwing. */
async function runCli(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its one line (or the help/version text).
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    process.exitCode = reportCliError(error);
  }
}

// `pincer gateway --help | head` closes the pipe early; that is not an error worth a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

await runCli(process.argv);
