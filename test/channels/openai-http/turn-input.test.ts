import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { OpenAiRequestError } from '../../../src/channels/openai-http/request-error.js';
import {
  buildTurnInput,
  normalizeChatMessages,
  normalizeResponsesInput,
} from '../../../src/channels/openai-http/turn-input.js';

const PNG_DATA = 'iVBORw0KGgo=';

describe('buildTurnInput', () => {
  it('uses the last user message as the turn and system messages as extraSystemPrompt', () => {
    const messages = normalizeChatMessages([
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: 'Answer in French.' },
      { role: 'user', content: 'hi' },
    ]);
    assert.deepEqual(buildTurnInput(messages, false, 'messages'), {
      text: 'hi',
      images: [],
      extraSystemPrompt: 'Be brief.\n\nAnswer in French.',
    });
  });

  it('folds earlier messages into a transcript when the session is empty', () => {
    const messages = normalizeChatMessages([
      { role: 'user', content: 'my name is Ada' },
      { role: 'assistant', content: 'Hello Ada' },
      { role: 'user', content: 'what is my name?' },
    ]);
    const turn = buildTurnInput(messages, false, 'messages');
    assert.match(turn.text, /User: my name is Ada\nAssistant: Hello Ada/);
    assert.ok(turn.text.endsWith('\nwhat is my name?'));
    assert.equal(turn.extraSystemPrompt, undefined);
  });

  it('does not replay earlier messages when the session already has history', () => {
    const messages = normalizeChatMessages([
      { role: 'user', content: 'first' },
      { role: 'assistant', content: 'reply' },
      { role: 'user', content: 'second' },
    ]);
    assert.equal(buildTurnInput(messages, true, 'messages').text, 'second');
  });

  it('ignores tool messages and anything after the last user message', () => {
    const messages = normalizeChatMessages([
      { role: 'user', content: 'q' },
      { role: 'tool', content: 'tool output' },
      { role: 'assistant', content: 'prefill' },
    ]);
    assert.deepEqual(buildTurnInput(messages, true, 'messages'), { text: 'q', images: [] });
  });

  it('rejects a request without a user message, naming the param', () => {
    const messages = normalizeChatMessages([{ role: 'system', content: 'only system' }]);
    assert.throws(
      () => buildTurnInput(messages, false, 'messages'),
      (err: unknown) => err instanceof OpenAiRequestError && err.status === 400 && err.param === 'messages',
    );
  });

  it('rejects an empty last user message', () => {
    const messages = normalizeChatMessages([{ role: 'user', content: '   ' }]);
    assert.throws(() => buildTurnInput(messages, false, 'messages'), OpenAiRequestError);
  });
});

describe('normalizeChatMessages', () => {
  it('joins text parts and decodes inline data-URL images', () => {
    const [message] = normalizeChatMessages([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          { type: 'image_url', image_url: { url: `data:image/PNG;base64,${PNG_DATA}` } },
          { type: 'text', text: 'here' },
        ],
      },
    ]);
    assert.deepEqual(message, { role: 'user', text: 'look\nhere', images: [{ mediaType: 'image/png', data: PNG_DATA }] });
  });

  it('refuses remote image URLs (never fetched)', () => {
    assert.throws(
      () => normalizeChatMessages([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://example.com/a.png' } }] }]),
      (err: unknown) => err instanceof OpenAiRequestError && err.param === 'messages[0].content[0].image_url.url',
    );
  });

  it('refuses non-image data URLs', () => {
    assert.throws(
      () => normalizeChatMessages([{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:text/html;base64,PGI+' } }] }]),
      OpenAiRequestError,
    );
  });
});

describe('normalizeResponsesInput', () => {
  it('treats a string input as one user message and instructions as system', () => {
    const turn = buildTurnInput(normalizeResponsesInput('hi', 'Be terse.'), false, 'input');
    assert.deepEqual(turn, { text: 'hi', images: [], extraSystemPrompt: 'Be terse.' });
  });

  it('reads message items with input_text and input_image parts', () => {
    const messages = normalizeResponsesInput(
      [
        { role: 'developer', content: 'dev rule' },
        {
          type: 'message',
          role: 'user',
          content: [
            { type: 'input_text', text: 'describe' },
            { type: 'input_image', image_url: `data:image/jpeg;base64,${PNG_DATA}` },
          ],
        },
      ],
      undefined,
    );
    assert.deepEqual(buildTurnInput(messages, false, 'input'), {
      text: 'describe',
      images: [{ mediaType: 'image/jpeg', data: PNG_DATA }],
      extraSystemPrompt: 'dev rule',
    });
  });

  it('refuses input_image by file id', () => {
    assert.throws(
      () => normalizeResponsesInput([{ role: 'user', content: [{ type: 'input_image', file_id: 'file_1' }] }], null),
      (err: unknown) => err instanceof OpenAiRequestError && err.param === 'input[0].content[0].image_url',
    );
  });
});
