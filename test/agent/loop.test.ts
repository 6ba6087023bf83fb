import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import { runAgentLoop } from '../../src/agent/loop.js';
import type { AgentLoopOptions, LoopEvent } from '../../src/agent/loop.js';
import type { ToolExecutor } from '../../src/agent/tool-types.js';
import type { ModelRequest, Provider } from '../../src/providers/types.js';
import { createScriptedProvider, textReply, toolReply } from './scripted-provider.js';
import type { CallScript } from './scripted-provider.js';

const TOOLS = [
  { name: 'echo', description: 'echo back', parameters: { type: 'object' } },
  { name: 'slow', description: 'waits', parameters: { type: 'object' } },
  { name: 'fail', description: 'throws', parameters: { type: 'object' } },
];

function request(text = 'hi', tools = TOOLS): ModelRequest {
  return { messages: [{ role: 'user', content: [{ type: 'text', text }] }], tools };
}

const executeTool: ToolExecutor = async (call, signal) => {
  if (call.name === 'fail') throw new Error('disk on fire');
  if (call.name === 'slow') {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Number(call.arguments.ms ?? 50));
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    return { content: [{ type: 'text', text: `slept ${String(call.arguments.ms)}` }] };
  }
  return { content: [{ type: 'text', text: JSON.stringify(call.arguments) }] };
};

async function run(scripts: CallScript[], overrides: Partial<AgentLoopOptions> = {}) {
  const provider = createScriptedProvider(scripts);
  const events: LoopEvent[] = [];
  const controller = new AbortController();
  const result = await runAgentLoop({
    provider,
    request: request(),
    executeTool,
    signal: controller.signal,
    emit: (e) => events.push(e),
    ...overrides,
  });
  return { result, events, provider };
}

describe('runAgentLoop', () => {
  it('streams text deltas with the cumulative text and returns one assistant message', async () => {
    const { result, events } = await run([
      [{ type: 'thinking', delta: 'let me ' }, { type: 'thinking', delta: 'think' }, ...textReply(['Hel', 'lo', ' there'])],
    ]);
    assert.equal(result.status, 'ok');
    assert.equal(result.stopReason, 'stop');
    assert.deepEqual(
      events.filter((e) => e.type === 'text.delta'),
      [
        { type: 'text.delta', delta: 'Hel', text: 'Hel' },
        { type: 'text.delta', delta: 'lo', text: 'Hello' },
        { type: 'text.delta', delta: ' there', text: 'Hello there' },
      ],
    );
    assert.deepEqual(events.filter((e) => e.type === 'thinking.delta').map((e) => e.type === 'thinking.delta' && e.text), ['let me ', 'let me think']);
    assert.equal(result.messages.length, 1);
    const [message] = result.messages;
    assert.equal(message?.role, 'assistant');
    assert.deepEqual(message?.content, [
      { type: 'thinking', thinking: 'let me think' },
      { type: 'text', text: 'Hello there' },
    ]);
    assert.equal(message?.provider, 'scripted');
    assert.equal(message?.model, 'scripted-model');
    assert.deepEqual(message?.usage, { input: 10, output: 5, totalTokens: 15 });
    assert.deepEqual(result.usage, { input: 10, output: 5, totalTokens: 15 });
  });

  it('runs the tools the model asks for and calls the model again with the results', async () => {
    const { result, events, provider } = await run([
      toolReply([{ id: 'c1', name: 'echo', arguments: { x: 1 } }]),
      textReply(['done']),
    ]);
    assert.equal(result.status, 'ok');
    assert.equal(result.iterations, 2);
    assert.deepEqual(
      result.messages.map((m) => [m.role, m.stopReason ?? m.toolCallId]),
      [
        ['assistant', 'toolUse'],
        ['toolResult', 'c1'],
        ['assistant', 'stop'],
      ],
    );
    assert.deepEqual(result.messages[0]?.content, [{ type: 'toolCall', id: 'c1', name: 'echo', arguments: { x: 1 } }]);
    assert.deepEqual(result.messages[1]?.content, [{ type: 'text', text: '{"x":1}' }]);
    assert.equal(result.messages[1]?.isError, false);
    assert.deepEqual(
      events.map((e) => e.type),
      ['tool.call', 'usage', 'tool.result', 'text.delta', 'usage'],
    );
    const second = provider.requests[1];
    assert.deepEqual(second?.messages.slice(1), [
      { role: 'assistant', content: [{ type: 'toolCall', id: 'c1', name: 'echo', arguments: { x: 1 } }] },
      { role: 'toolResult', toolCallId: 'c1', toolName: 'echo', content: [{ type: 'text', text: '{"x":1}' }], isError: false },
    ]);
    assert.deepEqual(result.usage, { input: 30, output: 8, totalTokens: 38 });
  });

  it('runs parallel calls of one turn concurrently and keeps results in call order', async () => {
    const started = Date.now();
    const { result, events } = await run([
      toolReply([
        { id: 'a', name: 'slow', arguments: { ms: 150 } },
        { id: 'b', name: 'slow', arguments: { ms: 20 } },
        { id: 'c', name: 'echo', arguments: { y: 2 } },
      ]),
      textReply(['ok']),
    ]);
    assert.ok(Date.now() - started < 290, 'calls ran one after another');
    assert.deepEqual(
      result.messages.filter((m) => m.role === 'toolResult').map((m) => m.toolCallId),
      ['a', 'b', 'c'],
    );
    // Results are announced as they finish.
    assert.deepEqual(
      events.filter((e) => e.type === 'tool.result').map((e) => e.type === 'tool.result' && e.toolCallId),
      ['c', 'b', 'a'],
    );
  });

  it('turns unknown tools, invalid JSON arguments and thrown errors into error results the model sees', async () => {
    const { result, provider } = await run([
      toolReply([
        { id: 'u', name: 'nope', arguments: {} },
        { id: 'j', name: 'echo', arguments: null, raw: '{"x": oops' },
        { id: 'f', name: 'fail', arguments: {} },
      ]),
      textReply(['sorry']),
    ]);
    assert.equal(result.status, 'ok');
    const results = result.messages.filter((m) => m.role === 'toolResult');
    assert.deepEqual(results.map((m) => m.isError), [true, true, true]);
    const texts = results.map((m) => (m.content[0]?.type === 'text' ? m.content[0].text : ''));
    assert.match(texts[0] ?? '', /^unknown tool: nope \(available: echo, slow, fail\)$/);
    assert.match(texts[1] ?? '', /invalid arguments for tool echo: expected a JSON object, got "\{\\"x\\": oops"/);
    assert.equal(texts[2], 'tool echo failed: disk on fire'.replace('echo', 'fail'));
    const fed = provider.requests[1]?.messages.filter((m) => m.role === 'toolResult');
    assert.equal(fed?.length, 3);
    assert.ok(fed?.every((m) => m.role === 'toolResult' && m.isError));
  });

  it('gives every call an error result when no executor is configured', async () => {
    const { result } = await run([toolReply([{ id: 'x', name: 'echo', arguments: {} }]), textReply(['ok'])], {
      executeTool: undefined,
      request: request('hi', []),
    });
    const toolResult = result.messages.find((m) => m.role === 'toolResult');
    assert.equal(toolResult?.isError, true);
    assert.deepEqual(toolResult?.content, [{ type: 'text', text: 'unknown tool: echo (no tools are available)' }]);
  });

  it('refuses oversized tool output as an error result', async () => {
    const { result } = await run([toolReply([{ id: 'big', name: 'echo', arguments: { pad: 'x'.repeat(500) } }]), textReply(['ok'])], {
      maxToolResultChars: 100,
    });
    const toolResult = result.messages.find((m) => m.role === 'toolResult');
    assert.equal(toolResult?.isError, true);
    assert.match(JSON.stringify(toolResult?.content), /output too large: \d+ characters \(limit 100\)/);
  });

  it('stops a model that keeps calling tools at maxIterations with a clear error', async () => {
    const { result, provider } = await run([toolReply([{ id: 'loop', name: 'echo', arguments: {} }])], { maxIterations: 3 });
    assert.equal(provider.requests.length, 3);
    assert.equal(result.status, 'error');
    assert.equal(result.iterations, 3);
    assert.match(result.error ?? '', /stopped after 3 model calls: the model kept calling tools/);
    const last = result.messages.at(-1);
    assert.equal(last?.role, 'assistant');
    assert.equal(last?.stopReason, 'error');
    assert.equal(last?.errorMessage, result.error);
    // The last turn's calls are answered (not run), so history stays well-formed.
    const lastResult = result.messages.at(-2);
    assert.equal(lastResult?.role, 'toolResult');
    assert.equal(lastResult?.isError, true);
    assert.match(JSON.stringify(lastResult?.content), /limit of 3 model calls/);
  });

  it('defaults to 20 model calls', async () => {
    const { provider, result } = await run([toolReply([{ id: 'loop', name: 'echo', arguments: {} }])]);
    assert.equal(provider.requests.length, 20);
    assert.equal(result.status, 'error');
  });

  it('ends with the provider error as data and keeps the partial text', async () => {
    const { result } = await run([
      [{ type: 'text', delta: 'partial' }, { type: 'error', message: 'upstream 500: overloaded', status: 500, retryable: true }],
    ]);
    assert.equal(result.status, 'error');
    assert.equal(result.error, 'upstream 500: overloaded');
    assert.equal(result.messages.length, 1);
    assert.equal(result.messages[0]?.stopReason, 'error');
    assert.equal(result.messages[0]?.errorMessage, 'upstream 500: overloaded');
    assert.deepEqual(result.messages[0]?.content, [{ type: 'text', text: 'partial' }]);
  });

  it('survives a provider that throws or ends without a final event', async () => {
    const throwing = {
      name: 'broken',
      model: 'm',
      // eslint-disable-next-line require-yield
      async *stream() {
        throw new Error('socket exploded');
      },
    };
    const events: LoopEvent[] = [];
    const result = await runAgentLoop({ provider: throwing, request: request(), signal: new AbortController().signal, emit: (e) => events.push(e) });
    assert.equal(result.status, 'error');
    assert.match(result.error ?? '', /socket exploded/);

    const { result: cut } = await run([[{ type: 'text', delta: 'half' }]]);
    assert.equal(cut.status, 'error');
    assert.match(cut.error ?? '', /ended without a final event/);
  });

  it('ends with an error result when stream() itself throws instead of returning a stream', async () => {
    const throwing: Provider = {
      name: 'broken',
      model: 'm',
      stream() {
        throw new Error('no stream for you');
      },
    };
    const result = await runAgentLoop({ provider: throwing, request: request(), signal: new AbortController().signal, emit: () => undefined });
    assert.equal(result.status, 'error');
    assert.match(result.error ?? '', /no stream for you/);
    assert.equal(result.messages.length, 1);
    assert.equal(result.messages[0]?.role, 'assistant');
    assert.equal(result.messages[0]?.stopReason, 'error');
  });

  it('ignores an emit callback that throws', async () => {
    const { result } = await run([textReply(['a', 'b'])], {
      emit: () => {
        throw new Error('observer broke');
      },
    });
    assert.equal(result.status, 'ok');
  });

  it('aborts mid-stream: the stream is cancelled and the partial reply is returned as aborted', async () => {
    const controller = new AbortController();
    const provider = createScriptedProvider([[{ type: 'text', delta: 'Hello' }, { type: 'hang' }, ...textReply(['never'])]]);
    const events: LoopEvent[] = [];
    const promise = runAgentLoop({
      provider,
      request: request(),
      signal: controller.signal,
      emit: (e) => {
        events.push(e);
        if (e.type === 'text.delta') controller.abort();
      },
    });
    const result = await promise;
    assert.equal(result.status, 'aborted');
    assert.equal(result.stopReason, 'aborted');
    assert.deepEqual(result.messages[0]?.content, [{ type: 'text', text: 'Hello' }]);
    assert.equal(provider.open, 0, 'the provider stream was closed');
  });

  it('aborts while tools run: running tools see the signal and the run ends aborted', async () => {
    const controller = new AbortController();
    let toolSawAbort = false;
    const provider = createScriptedProvider([toolReply([{ id: 't', name: 'echo', arguments: {} }]), textReply(['never'])]);
    const result = await runAgentLoop({
      provider,
      request: request(),
      signal: controller.signal,
      executeTool: (_call, signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            toolSawAbort = true;
            resolve({ content: [{ type: 'text', text: 'stopped' }] });
          });
          setTimeout(() => controller.abort(), 10);
        }),
      emit: () => undefined,
    });
    assert.equal(toolSawAbort, true);
    assert.equal(result.status, 'aborted');
    assert.equal(provider.requests.length, 1, 'no model call after the abort');
    assert.deepEqual(result.messages.map((m) => m.role), ['assistant', 'toolResult', 'assistant']);
    assert.equal(result.messages.at(-1)?.stopReason, 'aborted');
  });

  it('does not wait forever for a provider that ignores its abort signal', async () => {
    const controller = new AbortController();
    const provider = createScriptedProvider([[{ type: 'text', delta: 'x' }, { type: 'pause', ms: 1_300 }, ...textReply(['late'])]], {
      ignoreAbort: true,
    });
    setTimeout(() => controller.abort(), 20);
    const started = Date.now();
    const result = await runAgentLoop({ provider, request: request(), signal: controller.signal, emit: () => undefined });
    assert.equal(result.status, 'aborted');
    assert.ok(Date.now() - started < 1_250, `took ${Date.now() - started} ms`);
  });

  it('gives tool calls without an id (or with a repeated one) distinct ids', async () => {
    const { result } = await run([
      toolReply([
        { id: '', name: 'echo', arguments: { n: 1 } },
        { id: 'dup', name: 'echo', arguments: { n: 2 } },
        { id: 'dup', name: 'echo', arguments: { n: 3 } },
      ]),
      textReply(['ok']),
    ]);
    const ids = result.messages.filter((m) => m.role === 'toolResult').map((m) => m.toolCallId);
    assert.equal(new Set(ids).size, 3);
    assert.ok(ids.every((id) => typeof id === 'string' && id !== ''));
  });
});

describe('client tools', () => {
  const CLIENT_TOOL = { name: 'get_weather', description: 'runs on the client', parameters: { type: 'object' } };

  it('stops at a call to a client tool after running the gateway calls of that step', async () => {
    const { result, events, provider } = await run(
      [
        toolReply([
          { id: 'own-1', name: 'echo', arguments: { say: 'x' } },
          { id: 'client-1', name: 'get_weather', arguments: { city: 'Paris' } },
        ]),
        textReply(['never asked']),
      ],
      { request: request('hi', [...TOOLS, CLIENT_TOOL]), clientTools: new Set(['get_weather']) },
    );
    assert.equal(result.status, 'ok');
    assert.equal(result.stopReason, 'toolUse');
    assert.equal(result.iterations, 1, 'no second model call');
    assert.equal(provider.requests.length, 1);
    assert.deepEqual(result.clientToolCalls, [{ id: 'client-1', name: 'get_weather', arguments: { city: 'Paris' } }]);
    assert.deepEqual(result.messages.map((m) => [m.role, m.stopReason, m.awaitsClientTools, m.toolCallId]), [
      ['assistant', 'toolUse', true, undefined],
      ['toolResult', undefined, undefined, 'own-1'],
    ]);
    const results = events.filter((e) => e.type === 'tool.result').map((e) => (e as { toolCallId: string }).toolCallId);
    assert.deepEqual(results, ['own-1'], 'only the gateway tool ran');
  });

  it('keeps looping while the model calls only gateway tools', async () => {
    const { result } = await run(
      [toolReply([{ id: 'own-1', name: 'echo', arguments: {} }]), textReply(['done'])],
      { request: request('hi', [...TOOLS, CLIENT_TOOL]), clientTools: new Set(['get_weather']) },
    );
    assert.equal(result.status, 'ok');
    assert.equal(result.stopReason, 'stop');
    assert.equal(result.clientToolCalls, undefined);
  });
});
