import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createEventMapper, classifyError } from '../../../src/channels/openclaw/event-mapper.js';
import { RunProgress } from '../../../src/agent/run-progress.js';
import type { AgentEvent, RunEvent } from '../../../src/agent/types.js';
import type { WireEvent } from '../../../src/channels/openclaw/method-types.js';
import type { SessionMeta, StoredMessage } from '../../../src/sessions/types.js';

const KEY = 'agent:main:main';
const RUN = '7d3d761d-fe04-4ea3-bd1b-3d6b16482c75';
const REPLY = ['Hello', ' from the', ' fake model.', ' This is', ' a fixed', ' streamed reply.'];

type Payload = Record<string, any>;

function assistantMessage(text: string, overrides: Partial<StoredMessage> = {}): StoredMessage {
  return {
    id: 'b08c6b54',
    role: 'assistant',
    content: [{ type: 'text', text }],
    timestamp: 1795606543064,
    runId: RUN,
    usage: { input: 10, output: 12, totalTokens: 22 },
    stopReason: 'stop',
    provider: 'fake',
    model: 'fake-model',
    ...overrides,
  };
}

type RunEnd = Extract<RunEvent, { type: 'run.end' }>;
type LoopStep =
  | { type: 'text.delta'; delta: string; text: string }
  | { type: 'thinking.delta'; delta: string; text: string }
  | { type: 'tool.call'; toolCallId: string; name: string; arguments: Record<string, unknown> }
  | { type: 'tool.result'; toolCallId: string; name: string; content: StoredMessage['content']; isError: boolean }
  | { type: 'usage'; usage: { input: number; output: number; totalTokens: number } };

/** A run's events as the agent publishes them: numbered, with the reply so far (RunProgress, as in run.ts). */
function runOf(
  runId: string,
  steps: LoopStep[],
  end?: Partial<Omit<RunEnd, 'type' | 'runId' | 'sessionKey' | 'seq' | 'reply'>>,
  start: { startedAt?: number; provider?: string; model?: string; sessionId?: string } = {},
): RunEvent[] {
  const progress = new RunProgress(runId, KEY, start.sessionId);
  const events: RunEvent[] = [
    progress.event({ type: 'run.start', startedAt: start.startedAt ?? 1, provider: start.provider ?? 'fake', model: start.model ?? 'm' }),
  ];
  for (const step of steps) {
    const event = progress.fromLoop(step);
    if (event !== undefined) events.push(event);
  }
  if (end !== undefined) {
    events.push(progress.event({ type: 'run.end', status: 'ok', stopReason: 'stop', startedAt: 1, endedAt: 2, text: '', reply: progress.reply, ...end }));
  }
  return events;
}

function runEvents(runId = RUN, end: Partial<RunEnd> = {}): RunEvent[] {
  const steps: LoopStep[] = [];
  let text = '';
  for (const delta of REPLY) {
    text += delta;
    steps.push({ type: 'text.delta', delta, text });
  }
  steps.push({ type: 'usage', usage: { input: 10, output: 12, totalTokens: 22 } });
  return runOf(
    runId,
    steps,
    { status: 'ok', message: assistantMessage(text), stopReason: 'stop', startedAt: 100, endedAt: 200, text, ...end },
    { startedAt: 100, provider: 'fake', model: 'fake-model' },
  );
}

function mapAll(events: AgentEvent[], mapper = createEventMapper()): WireEvent[] {
  return events.flatMap((e) => mapper(e));
}

function payloads(wire: WireEvent[], event: string): Payload[] {
  return wire.filter((w) => w.event === event).map((w) => w.payload as Payload);
}

describe('createEventMapper: a completed run', () => {
  const wire = mapAll(runEvents());
  const agent = payloads(wire, 'agent');
  const chat = payloads(wire, 'chat');

  it('sends every chat and agent event to read-scope sockets with the canonical key (item 25)', () => {
    for (const w of wire) {
      assert.equal(w.audience, 'read');
      assert.equal(w.sessionKey, KEY);
      assert.equal((w.payload as Payload).sessionKey, KEY);
      assert.equal((w.payload as Payload).agentId, 'main');
      assert.equal((w.payload as Payload).runId, RUN);
    }
  });

  it('opens with lifecycle start then model', () => {
    assert.deepEqual(agent[0]!.data, { phase: 'start', startedAt: 100 });
    assert.equal(agent[0]!.stream, 'lifecycle');
    assert.deepEqual(agent[1]!.data, { phase: 'model', provider: 'fake', model: 'fake-model' });
  });

  it('numbers agent events 1, 2, 3, ... per run', () => {
    assert.deepEqual(
      agent.map((p) => p.seq),
      agent.map((_, i) => i + 1),
    );
    for (const p of agent) assert.equal(typeof p.ts, 'number');
  });

  it('mirrors each text delta as agent assistant (cumulative) and chat delta (item 27)', () => {
    const assistant = agent.filter((p) => p.stream === 'assistant');
    const deltas = chat.filter((p) => p.state === 'delta');
    assert.equal(assistant.length, REPLY.length);
    assert.equal(deltas.length, REPLY.length);
    let sofar = '';
    for (let i = 0; i < REPLY.length; i += 1) {
      sofar += deltas[i]!.deltaText;
      assert.equal(deltas[i]!.deltaText, REPLY[i]);
      assert.equal(deltas[i]!.message.role, 'assistant');
      assert.equal(deltas[i]!.message.content[0].text, sofar);
      assert.equal(typeof deltas[i]!.message.timestamp, 'number');
      assert.deepEqual(assistant[i]!.data, { text: sofar, delta: REPLY[i], itemId: `${RUN}:1` });
    }
  });

  it('keeps chat seq non-decreasing', () => {
    for (let i = 1; i < chat.length; i += 1) assert.ok(chat[i]!.seq >= chat[i - 1]!.seq);
  });

  it('reports usage on the agent usage stream', () => {
    const usage = agent.find((p) => p.stream === 'usage');
    assert.deepEqual(usage?.data, { inputTokens: 10, outputTokens: 12, totalTokens: 22 });
  });

  it('ends with lifecycle end, then exactly one chat final carrying the persisted message (item 28)', () => {
    const last = wire.at(-1)!;
    const beforeLast = wire.at(-2)!;
    assert.equal(beforeLast.event, 'agent');
    assert.deepEqual((beforeLast.payload as Payload).data, {
      phase: 'end',
      startedAt: 100,
      endedAt: 200,
      aborted: false,
      stopReason: 'stop',
      terminalReply: { disposition: 'visible', text: REPLY.join('') },
    });
    assert.equal(last.event, 'chat');
    const final = last.payload as Payload;
    assert.equal(final.state, 'final');
    assert.equal(final.stopReason, 'stop');
    assert.equal(final.message.id, 'b08c6b54');
    assert.deepEqual(final.message.content, [{ type: 'text', text: REPLY.join('') }]);
    assert.deepEqual(final.usage, { input: 10, output: 12, totalTokens: 22, cacheRead: 0, cacheWrite: 0 });
    assert.equal(chat.filter((p) => ['final', 'aborted', 'error'].includes(p.state)).length, 1);
  });

  it('never sends state "status" (item 29)', () => {
    assert.equal(chat.filter((p) => p.state === 'status').length, 0);
  });
});

describe('createEventMapper: terminal states', () => {
  it('maps an aborted run to lifecycle end aborted:true and chat aborted stopReason rpc (item 38)', () => {
    const mapper = createEventMapper();
    const events = runOf('r', [{ type: 'text.delta', delta: 'Hel', text: 'Hel' }], {
      status: 'aborted',
      message: assistantMessage('Hel', { runId: 'r', stopReason: 'aborted' }),
      stopReason: 'rpc',
      startedAt: 1,
      endedAt: 2,
    });
    const wire = mapAll(events, mapper);
    const lifecycle = wire.at(-2)!.payload as Payload;
    assert.equal(lifecycle.stream, 'lifecycle');
    assert.equal(lifecycle.data.phase, 'end');
    assert.equal(lifecycle.data.aborted, true);
    assert.equal(lifecycle.data.stopReason, 'rpc');
    const aborted = wire.at(-1)!.payload as Payload;
    assert.equal(aborted.state, 'aborted');
    assert.equal(aborted.stopReason, 'rpc');
    assert.deepEqual(aborted.message.content, [{ type: 'text', text: 'Hel' }]);
  });

  it('leaves out the message of an aborted run that produced nothing', () => {
    const wire = mapAll(runOf('r', [], { status: 'aborted', stopReason: 'rpc', startedAt: 1, endedAt: 2 }));
    assert.equal('message' in (wire.at(-1)!.payload as Payload), false);
  });

  it('maps a failed run to lifecycle error and chat error with errorMessage', () => {
    const wire = mapAll(runOf('r', [], { status: 'error', error: 'HTTP 500: boom', stopReason: 'error', startedAt: 1, endedAt: 2 }));
    const lifecycle = wire.at(-2)!.payload as Payload;
    assert.deepEqual(lifecycle.data, { phase: 'error', error: 'HTTP 500: boom', startedAt: 1, endedAt: 2 });
    const error = wire.at(-1)!.payload as Payload;
    assert.equal(error.state, 'error');
    assert.equal(error.errorMessage, 'HTTP 500: boom');
    assert.equal(error.errorKind, 'unknown');
  });

  it('keeps no state: the same events map to the same frames, whatever came before (item 28 rests on the run)', () => {
    const events = runEvents('r1');
    const fresh = mapAll(events, createEventMapper({ now: () => 7 }));
    const used = createEventMapper({ now: () => 7 });
    mapAll(runEvents('r0'), used);
    assert.deepEqual(mapAll(events, used), fresh);
    assert.deepEqual(mapAll(events.slice(3), createEventMapper({ now: () => 7 })), fresh.slice(6));
  });

  it('keeps runs apart: each has its own seq from 1', () => {
    const mapper = createEventMapper();
    const a = runEvents('ra');
    const b = runEvents('rb');
    const wire: WireEvent[] = [];
    for (let i = 0; i < a.length; i += 1) wire.push(...mapper(a[i]!), ...mapper(b[i]!));
    for (const runId of ['ra', 'rb']) {
      const seqs = payloads(wire, 'agent').filter((p) => p.runId === runId).map((p) => p.seq);
      assert.deepEqual(seqs, seqs.map((_, i) => i + 1));
    }
  });

  it('picks up a run whose start it never saw, numbering from the event itself', () => {
    const [, delta] = runOf('x', [{ type: 'text.delta', delta: 'a', text: 'a' }]);
    const wire = mapAll([delta!]);
    assert.equal((wire[0]!.payload as Payload).seq, 3);
  });

  it('numbers many interleaved runs without tracking them', () => {
    const mapper = createEventMapper();
    const runs = Array.from({ length: 1100 }, (_, i) => runOf(`r${i}`, [{ type: 'text.delta', delta: 'a', text: 'a' }]));
    for (const events of runs) mapper(events[0]!);
    const wire = mapper(runs.at(-1)![1]!);
    assert.equal((wire[0]!.payload as Payload).seq, 3);
  });
});

describe('createEventMapper: tools and thinking', () => {
  it('maps thinking, tool call and tool result, and starts a new assistant item after tools', () => {
    const wire = mapAll(
      runOf('r', [
        { type: 'thinking.delta', delta: 'hmm', text: 'hmm' },
        { type: 'text.delta', delta: 'Let me look.', text: 'Let me look.' },
        { type: 'tool.call', toolCallId: 'c1', name: 'read', arguments: { path: 'a.txt' } },
        { type: 'tool.result', toolCallId: 'c1', name: 'read', content: [{ type: 'text', text: 'data' }], isError: false },
        { type: 'text.delta', delta: 'Done.', text: 'Done.' },
      ]),
    );
    const agent = payloads(wire, 'agent');
    assert.deepEqual(agent.find((p) => p.stream === 'thinking')?.data, { text: 'hmm', delta: 'hmm' });
    const tools = agent.filter((p) => p.stream === 'tool').map((p) => p.data);
    assert.deepEqual(tools, [
      { phase: 'start', name: 'read', toolCallId: 'c1', args: { path: 'a.txt' } },
      { phase: 'result', name: 'read', toolCallId: 'c1', result: { content: [{ type: 'text', text: 'data' }] }, isError: false },
    ]);
    const assistant = agent.filter((p) => p.stream === 'assistant').map((p) => p.data);
    assert.deepEqual(assistant[1], { text: 'Done.', delta: 'Done.', itemId: 'r:2' });
    const deltas = payloads(wire, 'chat');
    assert.equal(deltas.at(-1)!.message.content[0].text, 'Let me look.Done.');
  });
});

describe('createEventMapper: chat.inject and session events', () => {
  const meta: SessionMeta = {
    key: KEY,
    agentId: 'main',
    sessionId: 'sid-1',
    label: 'L',
    derivedTitle: 'Hi',
    createdAt: 1,
    updatedAt: 2,
    messageCount: 3,
    inputTokens: 0,
    outputTokens: 0,
    totalTokens: 0,
    lastRunId: null,
  };
  const options = {
    defaults: { model: 'fake-model', provider: 'fake', contextTokens: 128000 },
    now: () => 42,
  };

  it('announces an injected message as one chat final with seq 0', () => {
    const message = assistantMessage('[capture]\n\nnote', { id: 'c0e3', runId: undefined, provider: 'pincer', model: 'gateway-injected' });
    const wire = createEventMapper(options)({ type: 'session.message', sessionKey: KEY, message, messageCount: 3, injected: true });
    assert.deepEqual(
      wire.map((w) => w.event),
      ['session.message', 'chat'],
    );
    const chat = wire.filter((w) => w.event === 'chat');
    assert.equal(chat.length, 1);
    const p = chat[0]!.payload as Payload;
    assert.equal(chat[0]!.event, 'chat');
    assert.equal(p.runId, 'inject-c0e3');
    assert.equal(p.seq, 0);
    assert.equal(p.state, 'final');
    assert.equal(p.message.model, 'gateway-injected');
    assert.equal(p.message.__openclaw.seq, 3);
  });

  it('adds the sessionId to agent events when the session is known', () => {
    const wire = createEventMapper(options)(runOf('r', [], undefined, { sessionId: 'sid-1' })[0]!);
    assert.equal((wire[0]!.payload as Payload).sessionId, 'sid-1');
    assert.equal((wire[0]!.payload as Payload).ts, 42);
  });

  it('sends session.message to message subscribers with messageId and messageSeq', () => {
    const message: StoredMessage = { id: 'm3', role: 'user', content: [{ type: 'text', text: 'hi' }], timestamp: 9, idempotencyKey: 'k' };
    const [w] = createEventMapper(options)({ type: 'session.message', sessionKey: KEY, message, messageCount: 3 });
    assert.equal(w!.event, 'session.message');
    assert.equal(w!.audience, 'session-messages');
    assert.equal(w!.sessionKey, KEY);
    const p = w!.payload as Payload;
    assert.equal(p.messageId, 'm3');
    assert.equal(p.messageSeq, 3);
    assert.equal(p.agentId, 'main');
    assert.deepEqual(p.message.content, [{ type: 'text', text: 'hi' }]);
    assert.equal(p.message.idempotencyKey, 'k:user');
  });

  it('sends sessions.changed to session subscribers, with phase and runId for runs', () => {
    const mapper = createEventMapper(options);
    const [w] = mapper({ type: 'session.changed', sessionKey: KEY, reason: 'run.start', session: meta, activeRunId: 'r9' });
    assert.equal(w!.event, 'sessions.changed');
    assert.equal(w!.audience, 'sessions');
    const p = w!.payload as Payload;
    assert.equal(p.phase, 'start');
    assert.equal(p.runId, 'r9');
    assert.equal(p.ts, 42);
    assert.equal(p.session.key, KEY);
    assert.equal(p.session.hasActiveRun, true);
    const [patched] = mapper({ type: 'session.changed', sessionKey: KEY, reason: 'patched', session: meta, activeRunId: 'r9' });
    assert.equal((patched!.payload as Payload).reason, 'patched');
    assert.equal((patched!.payload as Payload).phase, undefined);
  });
});

describe('classifyError', () => {
  it('recognises timeouts, rate limits and context overflows', () => {
    assert.equal(classifyError('request timed out after 120000 ms'), 'timeout');
    assert.equal(classifyError('HTTP 429 Too Many Requests'), 'rate_limit');
    assert.equal(classifyError("This model's maximum context length is 8192 tokens"), 'context_length');
    assert.equal(classifyError('boom'), 'unknown');
  });
});
