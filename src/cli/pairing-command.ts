/**
 * `pincer pairing list [channel]` and `pincer pairing approve <channel> <code>`:
 * DM pairing on the running gateway over its protocol (channels.pairing.*),
 * like `openclaw pairing`. The gateway owns the pairing store.
 */

import { loadClientConfig } from './client-config.js';
import { callGateway } from './gateway-rpc.js';

type Options = Record<string, unknown>;

interface PairingList {
  requests: { channel: string; code: string; id: string; meta: Record<string, string>; createdAtMs: number; expiresAtMs: number }[];
}

/** `pincer pairing list [channel] [--json]` */
export async function runPairingList(channel: string | undefined, options: Options): Promise<void> {
  const list = (await callGateway(loadClientConfig(options), 'channels.pairing.list', channel === undefined ? {} : { channel })) as PairingList;
  if (options.json === true) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
  if (list.requests.length === 0) return void process.stdout.write('no pending pairing requests\n');
  const rows = list.requests.map((request) => [
    request.channel,
    request.code,
    request.id,
    [request.meta.firstName, request.meta.lastName].filter(Boolean).join(' ') + (request.meta.username === undefined ? '' : ` (@${request.meta.username})`),
    `${Math.max(0, Math.round((request.expiresAtMs - Date.now()) / 60_000))} min`,
  ]);
  process.stdout.write(table([['CHANNEL', 'CODE', 'SENDER ID', 'NAME', 'EXPIRES IN'], ...rows]));
}

/** `pincer pairing approve <channel> <code>` */
export async function runPairingApprove(channel: string, code: string, options: Options): Promise<void> {
  const result = (await callGateway(loadClientConfig(options), 'channels.pairing.approve', { channel, code })) as { channel: string; id: string };
  if (options.json === true) return void process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  process.stdout.write(`approved ${result.channel} sender ${result.id}\n`);
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ')).join('\n') + '\n';
}
