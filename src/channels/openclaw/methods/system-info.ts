/**
 * system.info and system-presence (docs/protocol.md §3.1): the host and
 * process the gateway runs on, and who is connected, in OpenClaw's shapes.
 * No filesystem path leaves the process (disk figures name no mount point).
 */

import { statfs } from 'node:fs/promises';
import { arch, cpus, freemem, hostname, loadavg, platform, release, totalmem, type as osType } from 'node:os';
import * as v from 'valibot';
import type { EventLoopStats } from '../../../util/event-loop-stats.js';
import type { MethodTable } from '../method-types.js';

/** One connected operator client, as the channel knows it. */
export interface PresenceClient {
  clientId: string;
  mode: string;
  version?: string;
  platform?: string;
  deviceFamily?: string;
  instanceId?: string;
  deviceId?: string;
  scopes: string[];
  /** Epoch ms the client authenticated. */
  onlineSince: number;
  /** Epoch ms of its last request. */
  lastActivityAt?: number;
}

export interface SystemInfoDeps {
  version: string;
  /** The bound port. */
  port: number;
  /** Epoch ms the gateway started. */
  startedAt: number;
  /** Random per process, so a client can tell a restart. */
  processInstanceId: string;
  /** A directory on the disk whose space is reported (the state directory); never sent. */
  diskDir: string;
  eventLoop(): EventLoopStats;
  /** The authenticated clients of this channel. */
  presence(): PresenceClient[];
  now?: () => number;
}

const NoParams = v.object({});

/** Build system.info and system-presence. */
export function createSystemInfoMethods(deps: SystemInfoDeps): MethodTable {
  const now = deps.now ?? Date.now;
  return {
    'system.info': {
      params: NoParams,
      scope: 'operator.read',
      async handler() {
        const memory = process.memoryUsage();
        const disk = await diskSpace(deps.diskDir);
        const cpuList = cpus();
        return {
          machineName: hostname(),
          hostname: hostname(),
          platform: platform(),
          release: release(),
          arch: arch(),
          osLabel: `${osType() === 'Darwin' ? 'macOS' : osType()} ${release()}`,
          port: deps.port,
          nodeVersion: process.version,
          pid: process.pid,
          processInstanceId: deps.processInstanceId,
          uptimeMs: Math.max(0, now() - deps.startedAt),
          cpuCount: cpuList.length,
          cpuModel: cpuList[0]?.model.trim() ?? null,
          loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
          memoryTotalBytes: totalmem(),
          memoryFreeBytes: freemem(),
          eventLoop: deps.eventLoop(),
          processMemory: processMemory(memory),
          disks: disk === undefined ? [] : [{ totalBytes: disk.totalBytes, availableBytes: disk.availableBytes }],
          diskTotalBytes: disk?.totalBytes ?? null,
          diskAvailableBytes: disk?.availableBytes ?? null,
          // Pincer has no utility model beside the agent's own.
          defaultAgentUtilityModel: { status: 'unavailable' },
        };
      },
    },
    'system-presence': {
      params: NoParams,
      scope: 'operator.read',
      handler() {
        const ts = now();
        const host = hostname();
        const self = {
          host,
          ip: host,
          version: deps.version,
          platform: `${platform()} ${release()}`,
          deviceFamily: familyOf(platform()),
          mode: 'gateway',
          reason: 'self',
          instanceId: deps.processInstanceId,
          text: `Gateway: ${host} · Pincer ${deps.version} · mode gateway · reason self`,
          ts,
        };
        const clients = deps.presence().map((client) => ({
          clientId: client.clientId,
          mode: client.mode,
          onlineSince: client.onlineSince,
          roles: ['operator'],
          scopes: client.scopes,
          ts,
          text: `Client: ${client.clientId} · mode ${client.mode}`,
          host: client.clientId,
          ...(client.version === undefined ? {} : { version: client.version }),
          ...(client.platform === undefined ? {} : { platform: client.platform }),
          ...(client.deviceFamily === undefined ? {} : { deviceFamily: client.deviceFamily }),
          ...(client.deviceId === undefined ? {} : { deviceId: client.deviceId }),
          ...(client.instanceId === undefined ? {} : { instanceId: client.instanceId }),
          reason: 'connect',
          lastActivityAt: client.lastActivityAt ?? client.onlineSince,
        }));
        return [self, ...clients];
      },
    },
  };
}

/** OpenClaw's processMemory block. */
export function processMemory(memory: NodeJS.MemoryUsage) {
  return {
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    externalBytes: memory.external,
    arrayBuffersBytes: memory.arrayBuffers,
  };
}

async function diskSpace(dir: string): Promise<{ totalBytes: number; availableBytes: number } | undefined> {
  try {
    const stats = await statfs(dir);
    return { totalBytes: stats.blocks * stats.bsize, availableBytes: stats.bavail * stats.bsize };
  } catch {
    return undefined;
  }
}

function familyOf(os: string): string {
  if (os === 'darwin') return 'Mac';
  if (os === 'win32') return 'Windows';
  return os === 'linux' ? 'Linux' : os;
}
