/**
 * config.get / config.set / config.patch / config.apply (docs/protocol.md §3.1):
 * the config file with its hash, and writes checked by the start-up rules,
 * refused on a stale `baseHash`, applied live where safe and otherwise
 * answered with "restart required". Secrets and paths leave the process
 * masked; a masked value sent back keeps the stored one.
 */

import * as v from 'valibot';
import { ConfigError } from '../../../config/config-error.js';
import { ConfigConflictError, type ConfigFileSnapshot } from '../../../config/config-writer.js';
import type { ConfigUpdate, LiveConfig } from '../../../config/live-config.js';
import { detailError, GatewayError } from '../../../protocol/errors.js';
import { RedactedValueError, redactConfig, redactUrlCredentials, restoreRedacted } from '../../../security/redact-config.js';
import type { Logger } from '../../../util/logger.js';
import type { MethodContext, MethodTable } from '../method-types.js';
import { applyMergePatch } from '../../../config/merge-patch.js';

export interface ConfigMethodDeps {
  config: LiveConfig;
  logger: Logger;
}

const NoParams = v.object({});
const SetParams = v.object({
  raw: v.pipe(v.string('raw: expected the config as a JSON string'), v.minLength(1, 'raw: must not be empty')),
  baseHash: v.optional(v.pipe(v.string('baseHash: expected the hash from config.get'), v.minLength(1, 'baseHash: must not be empty'))),
});
/** config.patch and config.apply also take OpenClaw's restart hints; Pincer never restarts itself, so they are accepted and ignored. */
const ApplyParams = v.object({
  ...SetParams.entries,
  sessionKey: v.optional(v.string()),
  note: v.optional(v.string()),
  restartDelayMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
});

type WriteMethod = 'config.set' | 'config.patch' | 'config.apply';

/** Build the config.* write and read entries. */
export function createConfigMethods(deps: ConfigMethodDeps): MethodTable {
  const { config, logger } = deps;

  const write = async (method: WriteMethod, params: v.InferOutput<typeof SetParams>, ctx: MethodContext) => {
    const incoming = parseRaw(params.raw);
    let update: ConfigUpdate;
    try {
      update = await config.update({
        baseHash: params.baseHash,
        apply(current, snapshot) {
          if (method !== 'config.patch') return restoreRedacted(incoming, current);
          if (!snapshot.valid) throw new GatewayError('INVALID_REQUEST', 'invalid config; fix it with config.set or config.apply before patching');
          if (!isObject(incoming)) throw new GatewayError('INVALID_REQUEST', 'config.patch raw must be a JSON object (a merge patch)');
          return restoreRedacted(applyMergePatch(current, incoming), current);
        },
      });
    } catch (error) {
      throw toGatewayError(error, config.path);
    }
    logger.info('config written', {
      method,
      connId: ctx.connId,
      changedPaths: update.changedPaths,
      // Keyed by path, so the logger redacts secret keys (`provider.apiKey`) by name.
      changes: Object.fromEntries(update.changedPaths.map((path) => [path, shownValue(valueAt(update.next.parsed, path))])),
      restartRequired: update.reload.restartRequired,
    });
    return writeAnswer(update, method);
  };

  return {
    'config.get': {
      params: NoParams,
      scope: 'operator.admin',
      async handler() {
        const snapshot = await config.read();
        return {
          ...fileView(snapshot, config.path),
          runtimeConfig: redactConfig(config.running()),
          pendingRestartPaths: config.pendingRestartPaths(),
        };
      },
    },
    'config.set': {
      params: SetParams,
      scope: 'operator.admin',
      handler: (params: v.InferOutput<typeof SetParams>, ctx) => write('config.set', params, ctx),
    },
    'config.patch': {
      params: ApplyParams,
      scope: 'operator.admin',
      handler: (params: v.InferOutput<typeof ApplyParams>, ctx) => write('config.patch', params, ctx),
    },
    'config.apply': {
      params: ApplyParams,
      scope: 'operator.admin',
      handler: (params: v.InferOutput<typeof ApplyParams>, ctx) => write('config.apply', params, ctx),
    },
  };
}

/** The file as a client may see it: secrets and paths masked, the hash to write against. */
function fileView(snapshot: ConfigFileSnapshot, configPath: string) {
  const shown = snapshot.parsed === undefined ? null : redactConfig(snapshot.parsed, 'mask');
  return {
    exists: snapshot.exists,
    // The text of a file that is not JSON could hold anything; only a parsed file is shown.
    raw: shown === null ? null : snapshot.exists ? `${JSON.stringify(shown, null, 2)}\n` : null,
    parsed: shown,
    config: shown,
    sourceConfig: shown,
    hash: snapshot.hash,
    valid: snapshot.valid,
    issues: snapshot.issues.map((issue) => ({ path: issue.path, message: withoutPath(issue.message, configPath) })),
    warnings: [],
  };
}

/** OpenClaw's write answer, with what Pincer did about the running gateway instead of a scheduled restart. */
function writeAnswer(update: ConfigUpdate, method: WriteMethod) {
  const { reload } = update;
  return {
    ok: true,
    config: redactConfig(update.next.parsed, 'mask'),
    hash: update.next.hash,
    changedPaths: reload.changedPaths,
    reload: {
      mode: reload.restartRequired ? 'restart' : reload.hotPaths.length > 0 ? 'hot' : 'none',
      hotPaths: reload.hotPaths,
      restartPaths: reload.restartPaths,
    },
    restartRequired: reload.restartRequired,
    // Pincer does not restart itself: a change that needs one waits for the operator.
    restart: reload.restartRequired
      ? {
          ok: false,
          required: true,
          scheduled: false,
          reason: method,
          paths: reload.restartPaths,
          message: `restart the gateway to apply ${reload.restartPaths.join(', ')}`,
        }
      : null,
    pendingRestartPaths: update.pendingRestartPaths,
  };
}

function parseRaw(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw detailError('INVALID_CONFIG', `raw is not valid JSON: ${detail}`, { extra: { field: 'raw' } });
  }
}

/** The refusals a write can meet, as wire errors naming the field. */
function toGatewayError(error: unknown, configPath: string): unknown {
  if (error instanceof ConfigConflictError) {
    return detailError('CONFIG_CHANGED', error.message, { extra: { reason: error.reason, currentHash: error.currentHash } });
  }
  if (error instanceof ConfigError) {
    const field = error.field ?? '';
    return detailError('INVALID_CONFIG', `invalid config: ${withoutPath(error.message, configPath)}`, { extra: { field, issues: [{ path: field, message: withoutPath(error.message, configPath) }] } });
  }
  if (error instanceof RedactedValueError) {
    return detailError('INVALID_CONFIG', `invalid config: ${error.message}`, { extra: { field: error.field } });
  }
  return error;
}

/** Errors name the file by its role, not its location. */
function withoutPath(message: string, configPath: string): string {
  return message.split(configPath).join('the config file');
}

function valueAt(root: unknown, path: string): unknown {
  let value = root;
  for (const key of path.split('.')) value = isObject(value) ? value[key] : undefined;
  return value;
}

function shownValue(value: unknown): unknown {
  return typeof value === 'string' ? redactUrlCredentials(value) : redactConfig(value, 'mask');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
