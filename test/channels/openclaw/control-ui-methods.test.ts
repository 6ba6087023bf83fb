/**
 * Every method the OpenClaw Control UI called on its pages (one real call each,
 * recorded against OpenClaw 2026.9.6 in test/fixtures/openclaw-control-ui-calls.json)
 * gets an answer from Pincer, never "unknown method", and hello-ok advertises
 * exactly the ones that answer. The families Pincer lacks answer in OpenClaw's
 * shape with nothing in them.
 */

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { EMPTY_FAMILY_METHODS } from '../../../src/channels/openclaw/methods/empty-families.js';
import { ProtocolClient } from '../../helpers/protocol-client.js';
import { okPayload, startStack, type Stack } from './e2e-setup.js';

const ROOT = new URL(import.meta.url.endsWith('.ts') ? '../../../' : '../../../../', import.meta.url);
const FIXTURE = fileURLToPath(new URL('test/fixtures/openclaw-control-ui-calls.json', ROOT));

interface RecordedCall {
  method: string;
  params: Record<string, unknown> | null;
  ok: boolean;
  /** Top-level keys of OpenClaw's answer, "array" for a list, null for null or an error. */
  payloadKeys: string[] | 'array' | null;
}

/**
 * Methods other work owns (management, multi-agent), not answered yet. When one
 * of them starts answering, this test fails until it is removed from here, so
 * the list only shrinks.
 */
const NOT_YET_IMPLEMENTED = new Set([
  'logs.tail',
  'models.authStatus',
  'system-presence',
  'system.info',
]);

/**
 * Keys of OpenClaw's answer Pincer leaves out on purpose, per method: filesystem
 * paths (Pincer sends none, docs/protocol.md §2.4), user profiles (Pincer has one
 * operator) and the error of a remote catalog Pincer never asks.
 */
const OMITTED_KEYS: Record<string, readonly string[]> = {
  'plugins.catalog.browse': ['remoteError'],
  'exec.approvals.get': ['path'],
  'skills.status': ['workspaceDir', 'managedSkillsDir'],
  'skills.library.list': ['profileId'],
};

/** Lists that describe policy, not content, so they are not empty. */
const POLICY_LISTS = new Set(['session.members.listEvidence.allowedVisibilities']);

let stack: Stack;
let client: ProtocolClient;
let calls: RecordedCall[];

before(async () => {
  calls = (JSON.parse(await readFile(FIXTURE, 'utf8')) as { calls: RecordedCall[] }).calls;
  stack = await startStack();
  client = await stack.client({ scopes: ['operator.admin'] });
});
after(async () => {
  await stack?.close();
});

describe('the Control UI method tour', () => {
  it('has the recorded calls to walk', () => {
    assert.ok(calls.length >= 70, `read ${calls.length} calls`);
  });

  it('answers every recorded method except the ones still listed as not implemented', async () => {
    const unknown: string[] = [];
    const nowAnswering: string[] = [];
    for (const call of calls) {
      const res = await client.request(call.method, call.params ?? {});
      const isUnknown = !res.ok && res.error?.message === `unknown method: ${call.method}`;
      if (isUnknown && !NOT_YET_IMPLEMENTED.has(call.method)) unknown.push(call.method);
      if (!isUnknown && NOT_YET_IMPLEMENTED.has(call.method)) nowAnswering.push(call.method);
    }
    assert.deepEqual(unknown, [], 'methods the Control UI calls that answer "unknown method"');
    assert.deepEqual(nowAnswering, [], 'these answer now: remove them from NOT_YET_IMPLEMENTED');
  });

  it('advertises in hello-ok exactly the recorded methods that answer', async () => {
    const res = await rawHello(stack);
    const methods = new Set(res.features.methods);
    for (const call of calls) {
      assert.equal(methods.has(call.method), !NOT_YET_IMPLEMENTED.has(call.method), `features.methods and ${call.method}`);
    }
  });
});

describe('empty families', () => {
  it('answer every method with the keys OpenClaw answers, holding nothing', async () => {
    const recorded = new Map(calls.map((call) => [call.method, call]));
    let compared = 0;
    for (const method of EMPTY_FAMILY_METHODS) {
      const call = recorded.get(method);
      const payload = okPayload(await client.request(method, call?.params ?? {}));
      if (call === undefined || !call.ok) continue;
      compared += 1;
      if (call.payloadKeys === 'array') {
        assert.deepEqual(payload, [], `${method} answers an empty list`);
        continue;
      }
      const omitted = OMITTED_KEYS[method] ?? [];
      const expected = (call.payloadKeys ?? []).filter((key) => !omitted.includes(key));
      const missing = expected.filter((key) => !(key in payload));
      assert.deepEqual(missing, [], `${method} lacks keys OpenClaw sends`);
      for (const [key, value] of Object.entries(payload)) {
        if (Array.isArray(value) && !POLICY_LISTS.has(`${method}.${key}`)) assert.deepEqual(value, [], `${method}.${key} is empty`);
      }
    }
    assert.ok(compared >= 35, `compared ${compared} methods with the recording`);
  });

  it('echoes the session of board.get and lists nothing in it', async () => {
    const payload = okPayload(await client.request('board.get', { sessionKey: 'agent:main:main', agentId: 'main' }));
    assert.deepEqual(payload, { sessionKey: 'agent:main:main', revision: 0, tabs: [], widgets: [] });
  });

  it("answers themes.list with the UI's built-in default and no themes to choose", async () => {
    const payload = okPayload(await client.request('themes.list', {}));
    assert.equal(payload.current.id, 'claw');
    assert.equal(payload.theme.id, payload.current.id);
    assert.equal(payload.theme.source, 'builtin');
    assert.deepEqual(payload.themes, []);
  });

  it('answers node.list and diagnostics.lanes with the current time', async () => {
    const before = Date.now();
    const nodes = okPayload(await client.request('node.list', {}));
    assert.ok(nodes.ts >= before && nodes.ts <= Date.now());
    assert.deepEqual(nodes.nodes, []);
  });

  it('keeps OpenClaw scopes: approval and pairing lists need admin, plain lists need read', async () => {
    const reader = await stack.client({ scopes: ['operator.read'] });
    for (const method of ['exec.approval.list', 'device.pair.list', 'question.list', 'update.status']) {
      const res = await reader.request(method, {});
      assert.equal(res.ok, false, method);
      assert.equal(res.error?.code, 'FORBIDDEN', method);
    }
    for (const method of ['node.list', 'plugins.list', 'tasks.list', 'themes.list']) okPayload(await reader.request(method, {}));
    const writeOnly = await stack.client({ scopes: ['operator.read'] });
    const groups = await writeOnly.request('sessions.groups.defaults', {});
    assert.equal(groups.error?.message, 'missing scope: operator.write');
  });

  it('refuses params that are not an object', async () => {
    const res = await client.request('tasks.list', 'all' as never);
    assert.equal(res.ok, false);
    assert.equal(res.error?.code, 'INVALID_REQUEST');
  });
});

/** hello-ok of a fresh admin connection. */
async function rawHello(target: Stack): Promise<{ features: { methods: string[] } }> {
  const fresh = await ProtocolClient.open(target.wsUrl);
  try {
    const res = await fresh.connect({ token: target.token, scopes: ['operator.admin'] });
    return res.payload as { features: { methods: string[] } };
  } finally {
    await fresh.close();
  }
}
