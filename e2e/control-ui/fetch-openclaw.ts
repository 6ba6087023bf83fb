/**
 * Fetch the official Control UI build: `npm pack openclaw@<version>` into a
 * cache outside the repository, then unpack only `dist/control-ui` from the
 * tarball. OpenClaw itself never runs (it needs a newer Node); only its
 * static build is used. A second run reuses the cache.
 */

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const OPENCLAW_VERSION = '2026.9.6';
/** npm pack of a ~95 MB tarball on a slow line. */
const PACK_TIMEOUT_MS = 10 * 60 * 1000;
const UNPACK_TIMEOUT_MS = 5 * 60 * 1000;

/** `${XDG_CACHE_HOME:-~/.cache}/pincer/openclaw-<version>`. */
export function openClawCacheDir(env: NodeJS.ProcessEnv = process.env, version = OPENCLAW_VERSION): string {
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(homedir(), '.cache');
  return path.join(base, 'pincer', `openclaw-${version}`);
}

/** The Control UI build directory inside the cache. */
export function controlUiDir(cacheDir: string): string {
  return path.join(cacheDir, 'package', 'dist', 'control-ui');
}

/**
 * Return a directory holding the Control UI build, downloading it first when
 * the cache lacks it. `log` receives one line per step.
 */
export async function ensureControlUiBuild(log: (line: string) => void, version = OPENCLAW_VERSION): Promise<string> {
  const cacheDir = openClawCacheDir(process.env, version);
  const buildDir = controlUiDir(cacheDir);
  if (existsSync(path.join(buildDir, 'index.html'))) {
    log(`using the cached Control UI build in ${buildDir}`);
    return buildDir;
  }
  await mkdir(path.dirname(cacheDir), { recursive: true });
  // Everything happens in a sibling temp dir renamed into place at the end, so an interrupted run leaves no half cache.
  const staging = await mkdtemp(`${cacheDir}.partial-`);
  try {
    const started = Date.now();
    log(`downloading openclaw@${version} with npm pack into ${staging} (about 95 MB)`);
    const { stdout } = await run('npm', ['pack', `openclaw@${version}`, '--pack-destination', staging, '--silent'], {
      timeout: PACK_TIMEOUT_MS,
      maxBuffer: 16 * 1024 * 1024,
    });
    const tarball = stdout.trim().split('\n').at(-1) ?? '';
    const tarPath = path.join(staging, tarball);
    if (!tarball.endsWith('.tgz') || !existsSync(tarPath)) {
      throw new Error(`npm pack did not report a tarball (got ${JSON.stringify(stdout.slice(0, 200))})`);
    }
    log(`unpacking package/dist/control-ui (${((Date.now() - started) / 1000).toFixed(1)} s so far)`);
    await run('tar', ['-xzf', tarPath, '-C', staging, 'package/dist/control-ui', 'package/package.json'], { timeout: UNPACK_TIMEOUT_MS });
    await rm(tarPath, { force: true });
    if (!existsSync(path.join(controlUiDir(staging), 'index.html'))) {
      throw new Error(`openclaw@${version} holds no dist/control-ui/index.html`);
    }
    await rm(cacheDir, { recursive: true, force: true });
    await rename(staging, cacheDir);
    log(`cached the Control UI build in ${buildDir} (${((Date.now() - started) / 1000).toFixed(1)} s, ${(await readdir(path.join(buildDir, 'assets'))).length} asset files)`);
    return buildDir;
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
