/**
 * Client-side function tools on the OpenAI-compatible API, as OpenClaw's
 * OpenResponses endpoint documents them: the official `openai` SDK offers a
 * tool, the fake model on loopback calls it, the run stops and the reply
 * hands the call back (non-streaming and streaming, chat completions and
 * responses); the follow-up with the result gets the final answer, and the
 * session history holds the whole exchange in order.
 */

import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import OpenAI from 'openai';
import type { RecordedRequest } from '../../helpers/fake-model-server.js';
import { okPayload, startStack, type Stack } from '../openclaw/e2e-setup.js';

const CLIENT_TIMEOUT_MS = 10_000;
const WEATHER = 'get_weather';
const RESULT = '{"temperature":"21C","sky":"clear"}';
const FINAL = 'It is 21C and clear in Paris.';

const chatTools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  {
    type: 'function',
    function: { name: WEATHER, description: 'Current weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
  },
];
const responseTools: OpenAI.Responses.FunctionTool[] = [
  { type: 'function', name: WEATHER, description: 'Current weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } } }, strict: false },
];

let stack: Stack;
let client: OpenAI;

before(async () => {
  stack = await startStack();
  client = new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: stack.token, maxRetries: 0, timeout: CLIENT_TIMEOUT_MS });
});
after(async () => {
  await stack?.close();
});
beforeEach(() => stack.fake.reset());

/** The model first calls the weather tool, then answers from its result. */
function scriptWeatherCall(callId: string): void {
  stack.fake.enqueue({ text: 'Let me check.', toolCalls: [{ id: callId, name: WEATHER, arguments: { city: 'Paris' } }] }, { text: ['It is 21C', ' and clear in Paris.'] });
}

function offeredTools(request: RecordedRequest | undefined): string[] {
  const tools = (request?.body.tools ?? []) as { function: { name: string } }[];
  return tools.map((tool) => tool.function.name);
}

/** The model saw the client's result as the answer to its call. */
function assertResultReachedModel(request: RecordedRequest | undefined, callId: string): void {
  const messages = (request?.body.messages ?? []) as { role: string; tool_call_id?: string; content?: unknown; tool_calls?: { id: string }[] }[];
  const last = messages.at(-1);
  assert.equal(last?.role, 'tool');
  assert.equal(last?.tool_call_id, callId);
  assert.equal(typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content), RESULT);
  const asked = messages.at(-2);
  assert.equal(asked?.role, 'assistant');
  assert.deepEqual(asked?.tool_calls?.map((call) => call.id), [callId]);
}

/** user → assistant (text + the call, awaiting the client) → the client's result → the final answer. */
async function assertHistory(sessionKey: string, callId: string): Promise<void> {
  const watcher = await stack.client();
  const history = okPayload(await watcher.request('chat.history', { sessionKey }));
  const messages = history.messages as { role: string; content: { type: string; id?: string; name?: string; text?: string }[]; toolCallId?: string }[];
  assert.deepEqual(messages.map((m) => m.role), ['user', 'assistant', 'toolResult', 'assistant']);
  assert.deepEqual(
    messages[1]!.content.filter((block) => block.type === 'toolCall').map((block) => [block.id, block.name]),
    [[callId, WEATHER]],
  );
  assert.equal(messages[2]!.toolCallId, callId);
  assert.deepEqual(messages[2]!.content, [{ type: 'text', text: RESULT }]);
  assert.deepEqual(messages[3]!.content, [{ type: 'text', text: FINAL }]);
}

describe('client tools on /v1/chat/completions', () => {
  it('hands the call back with finish_reason tool_calls, and the tool message continues the turn (non-streaming)', async () => {
    const callId = `call_${randomUUID().slice(0, 8)}`;
    scriptWeatherCall(callId);
    const question: OpenAI.Chat.Completions.ChatCompletionMessageParam = { role: 'user', content: 'Weather in Paris?' };
    const first = await client.chat.completions.create({ model: 'pincer', messages: [question], tools: chatTools }).withResponse();
    const choice = first.data.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.content, 'Let me check.');
    assert.equal(choice.message.tool_calls?.length, 1);
    const toolCall = choice.message.tool_calls![0]! as OpenAI.Chat.Completions.ChatCompletionMessageFunctionToolCall;
    assert.equal(toolCall.id, callId);
    assert.equal(toolCall.type, 'function');
    assert.equal(toolCall.function.name, WEATHER);
    assert.deepEqual(JSON.parse(toolCall.function.arguments), { city: 'Paris' });
    const offered = offeredTools(stack.fake.requests[0]);
    assert.ok(offered.includes(WEATHER), `the client tool was offered: ${offered.join(', ')}`);
    assert.ok(offered.length > 1, 'beside the gateway’s own tools');
    assert.equal(stack.fake.requests.length, 1, 'the run stopped at the client tool');
    const sessionKey = first.response.headers.get('x-pincer-session-key')!;

    // A stateless client: no session header, the whole conversation again, the result last.
    const second = await client.chat.completions
      .create({
        model: 'pincer',
        messages: [question, choice.message, { role: 'tool', tool_call_id: callId, content: RESULT }],
        tools: chatTools,
      })
      .withResponse();
    assert.equal(second.data.choices[0]!.finish_reason, 'stop');
    assert.equal(second.data.choices[0]!.message.content, FINAL);
    assert.equal(second.response.headers.get('x-pincer-session-key'), sessionKey, 'the turn continued in the same session');
    assertResultReachedModel(stack.fake.requests[1], callId);
    await assertHistory(sessionKey, callId);
  });

  it('streams the call as delta.tool_calls with finish_reason tool_calls, then streams the answer', async () => {
    const callId = `call_${randomUUID().slice(0, 8)}`;
    const sessionKey = `tools-${randomUUID()}`;
    scriptWeatherCall(callId);
    const headers = { 'x-pincer-session-key': sessionKey };
    const question: OpenAI.Chat.Completions.ChatCompletionMessageParam = { role: 'user', content: 'Weather in Paris?' };
    const stream = await client.chat.completions.create({ model: 'pincer', stream: true, messages: [question], tools: chatTools }, { headers });
    let text = '';
    let finish: string | null = null;
    const calls: { id?: string; name?: string; arguments: string }[] = [];
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      text += delta?.content ?? '';
      for (const part of delta?.tool_calls ?? []) {
        const entry = (calls[part.index] ??= { arguments: '' });
        if (part.id !== undefined) entry.id = part.id;
        if (part.function?.name !== undefined) entry.name = part.function.name;
        entry.arguments += part.function?.arguments ?? '';
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(text, 'Let me check.');
    assert.equal(finish, 'tool_calls');
    assert.deepEqual(calls.map((call) => [call.id, call.name, JSON.parse(call.arguments)]), [[callId, WEATHER, { city: 'Paris' }]]);

    const follow = await client.chat.completions.create(
      {
        model: 'pincer',
        stream: true,
        messages: [
          question,
          { role: 'assistant', content: text, tool_calls: [{ id: callId, type: 'function', function: { name: WEATHER, arguments: calls[0]!.arguments } }] },
          { role: 'tool', tool_call_id: callId, content: RESULT },
        ],
        tools: chatTools,
      },
      { headers },
    );
    let answer = '';
    finish = null;
    for await (const chunk of follow) {
      answer += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.equal(answer, FINAL);
    assert.equal(finish, 'stop');
    assertResultReachedModel(stack.fake.requests[1], callId);
    await assertHistory(`agent:main:${sessionKey}`, callId);
  });
});

describe('client tools on /v1/responses', () => {
  it('returns a function_call output item, and function_call_output with previous_response_id continues (non-streaming)', async () => {
    const callId = `call_${randomUUID().slice(0, 8)}`;
    scriptWeatherCall(callId);
    const first = await client.responses.create({ model: 'pincer', input: 'Weather in Paris?', tools: responseTools }).withResponse();
    const calls = first.data.output.filter((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === 'function_call');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.call_id, callId);
    assert.equal(calls[0]!.name, WEATHER);
    assert.deepEqual(JSON.parse(calls[0]!.arguments), { city: 'Paris' });
    assert.equal(first.data.output_text, 'Let me check.');
    assert.equal(stack.fake.requests.length, 1);

    const second = await client.responses.create({
      model: 'pincer',
      previous_response_id: first.data.id,
      input: [{ type: 'function_call_output', call_id: callId, output: RESULT }],
      tools: responseTools,
    });
    assert.equal(second.status, 'completed');
    assert.equal(second.output_text, FINAL);
    assert.equal(second.output.some((item) => item.type === 'function_call'), false);
    assertResultReachedModel(stack.fake.requests[1], callId);
    await assertHistory(first.response.headers.get('x-pincer-session-key')!, callId);
  });

  it('streams the function_call item events, and the echoed output plus function_call_output continues the stream', async () => {
    const callId = `call_${randomUUID().slice(0, 8)}`;
    scriptWeatherCall(callId);
    const stream = await client.responses.create({ model: 'pincer', stream: true, input: 'Weather in Paris?', tools: responseTools });
    const types: string[] = [];
    let completed: OpenAI.Responses.Response | undefined;
    let argumentsDone = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.function_call_arguments.done') argumentsDone = event.arguments;
      if (event.type === 'response.completed') completed = event.response;
    }
    assert.ok(types.includes('response.function_call_arguments.delta'), types.join(', '));
    assert.deepEqual(JSON.parse(argumentsDone), { city: 'Paris' });
    assert.ok(completed !== undefined, 'response.completed');
    const call = completed.output.find((item): item is OpenAI.Responses.ResponseFunctionToolCall => item.type === 'function_call');
    assert.equal(call?.call_id, callId);
    assert.equal(call?.name, WEATHER);

    // No previous_response_id and no session header: the call id finds the session that asked.
    const follow = await client.responses.create({
      model: 'pincer',
      stream: true,
      input: [
        { role: 'user', content: 'Weather in Paris?' },
        ...(completed.output as OpenAI.Responses.ResponseInputItem[]),
        { type: 'function_call_output', call_id: callId, output: RESULT },
      ],
      tools: responseTools,
    });
    let text = '';
    let status: string | undefined;
    for await (const event of follow) {
      if (event.type === 'response.output_text.delta') text += event.delta;
      if (event.type === 'response.completed') status = event.response.status;
    }
    assert.equal(text, FINAL);
    assert.equal(status, 'completed');
    assertResultReachedModel(stack.fake.requests[1], callId);
  });
});

describe('tool_choice', () => {
  it('"none" offers no client tool; "required" fails a reply without the call (502 api_error)', async () => {
    stack.fake.enqueue({ text: 'plain' }, { text: 'still plain' });
    const none = await client.chat.completions.create({ model: 'pincer', messages: [{ role: 'user', content: 'hi' }], tools: chatTools, tool_choice: 'none' });
    assert.equal(none.choices[0]?.message.content, 'plain');
    assert.equal(offeredTools(stack.fake.requests[0]).includes(WEATHER), false);
    await assert.rejects(
      client.chat.completions.create({ model: 'pincer', messages: [{ role: 'user', content: 'hi' }], tools: chatTools, tool_choice: 'required' }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.APIError);
        assert.equal(err.status, 502);
        assert.equal(err.type, 'api_error');
        return true;
      },
    );
    const system = String((stack.fake.requests[1]?.body.messages as { role: string; content: string }[])[0]?.content);
    assert.match(system, /call the tool `get_weather`/);
  });

  it('a pinned function narrows the client tools to that one', async () => {
    const callId = `call_${randomUUID().slice(0, 8)}`;
    stack.fake.enqueue({ toolCalls: [{ id: callId, name: WEATHER, arguments: { city: 'Oslo' } }] });
    const other = { type: 'function' as const, function: { name: 'get_time', parameters: { type: 'object', properties: {} } } };
    const reply = await client.chat.completions.create({
      model: 'pincer',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: [...chatTools, other],
      tool_choice: { type: 'function', function: { name: WEATHER } },
    });
    assert.equal(reply.choices[0]?.finish_reason, 'tool_calls');
    const offered = offeredTools(stack.fake.requests[0]);
    assert.ok(offered.includes(WEATHER));
    assert.equal(offered.includes('get_time'), false);
  });
});

describe('bad tool definitions and results', () => {
  async function post(path: string, body: unknown): Promise<{ status: number; error: { param?: string | null; code?: string | null; message?: string } }> {
    const res = await fetch(`${stack.gateway.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.token}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(CLIENT_TIMEOUT_MS),
    });
    return { status: res.status, error: ((await res.json()) as { error: { param?: string } }).error };
  }
  const chat = (extra: Record<string, unknown>) => ({ model: 'pincer', messages: [{ role: 'user', content: 'hi' }], ...extra });
  const cases: [string, string, unknown][] = [
    ['/v1/chat/completions', 'tools[0].function.name', chat({ tools: [{ type: 'function', function: { description: 'x' } }] })],
    ['/v1/chat/completions', 'tools[0].function.name', chat({ tools: [{ type: 'function', function: { name: 'has space' } }] })],
    ['/v1/chat/completions', 'tools[0].function', chat({ tools: [{ type: 'function' }] })],
    ['/v1/chat/completions', 'tools[1].type', chat({ tools: [...chatTools, { type: 'retrieval' }] })],
    ['/v1/chat/completions', 'tools[0].function.parameters', chat({ tools: [{ type: 'function', function: { name: 'f', parameters: 'none' } }] })],
    ['/v1/chat/completions', 'tool_choice.function.name', chat({ tools: chatTools, tool_choice: { type: 'function', function: { name: 'nope' } } })],
    ['/v1/chat/completions', 'tool_choice', chat({ tools: chatTools, tool_choice: { type: 'allowed_tools', allowed_tools: {} } })],
    ['/v1/chat/completions', 'tools', chat({ tools: [{ type: 'function', function: { name: 'read_file' } }] })],
    ['/v1/chat/completions', 'messages[1].tool_call_id', chat({ messages: [{ role: 'user', content: 'hi' }, { role: 'tool', content: 'x' }] })],
    ['/v1/chat/completions', 'messages', chat({ messages: [{ role: 'user', content: 'hi' }, { role: 'tool', tool_call_id: 'call_never', content: 'x' }] })],
    ['/v1/responses', 'tools[0].name', { model: 'pincer', input: 'hi', tools: [{ type: 'function', name: '' }] }],
    ['/v1/responses', 'tool_choice.name', { model: 'pincer', input: 'hi', tools: responseTools, tool_choice: { type: 'function', name: 'nope' } }],
    ['/v1/responses', 'input[0].call_id', { model: 'pincer', input: [{ type: 'function_call_output', output: 'x' }] }],
    ['/v1/responses', 'input', { model: 'pincer', input: [{ type: 'function_call_output', call_id: 'call_never', output: 'x' }] }],
  ];
  for (const [path, param, body] of cases) {
    it(`${path}: a 400 naming ${param}`, async () => {
      const result = await post(path, body);
      assert.equal(result.status, 400, JSON.stringify(result.error));
      assert.equal(result.error.param, param, JSON.stringify(result.error));
      assert.equal(stack.fake.requests.length, 0, 'no model call');
    });
  }
});
