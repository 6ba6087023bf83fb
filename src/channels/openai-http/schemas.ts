/**
 * valibot schemas for the request bodies of `/v1/chat/completions` and
 * `/v1/responses`. Objects are loose: OpenAI clients send many tuning fields
 * (temperature, top_p, …) that Pincer accepts and ignores.
 */

import * as v from 'valibot';
import { OpenAiRequestError } from './request-error.js';

/** Longest accepted `user` string; it only selects a session. */
const MAX_USER_CHARS = 512;

const ChatContentPartSchema = v.variant('type', [
  v.looseObject({ type: v.literal('text'), text: v.string() }),
  v.looseObject({ type: v.literal('image_url'), image_url: v.looseObject({ url: v.string() }) }),
  v.looseObject({ type: v.literal('refusal'), refusal: v.string() }),
]);

const ChatMessageSchema = v.looseObject({
  role: v.picklist(['system', 'developer', 'user', 'assistant', 'tool', 'function']),
  content: v.nullish(v.union([v.string(), v.array(ChatContentPartSchema)])),
  /** `tool` messages: the call they answer. */
  tool_call_id: v.nullish(v.string('expected a string')),
  /** `function` messages: the function's name. */
  name: v.nullish(v.string('expected a string')),
});

const UserSchema = v.nullish(v.pipe(v.string(), v.maxLength(MAX_USER_CHARS)));

/**
 * Tuning fields Pincer accepts and passes over, typed as OpenAI types them so
 * a wrong type is a 400 naming the field instead of being ignored.
 */
const numberIn = (min: number, max: number) => v.nullish(v.pipe(v.number('expected a number'), v.minValue(min), v.maxValue(max)));
const positiveInt = v.nullish(v.pipe(v.number('expected an integer'), v.integer('expected an integer'), v.minValue(1)));
const jsonObject = v.nullish(v.record(v.string(), v.unknown(), 'expected an object'));
const boolean = v.nullish(v.boolean('expected true or false'));

/** `{ type: "function", … }` in either API's shape; only the type is checked here. */
const ToolSchema = v.looseObject({ type: v.string('expected a string') });
const ToolChoiceSchema = v.nullish(v.union([v.picklist(['auto', 'none', 'required'], "expected 'auto', 'none', 'required' or an object"), v.looseObject({ type: v.string() })]));

const SHARED_TUNING = {
  temperature: numberIn(0, 2),
  top_p: numberIn(0, 1),
  tools: v.nullish(v.array(ToolSchema, 'expected an array of tools')),
  tool_choice: ToolChoiceSchema,
  parallel_tool_calls: boolean,
  store: boolean,
  metadata: jsonObject,
};

export const ChatCompletionBodySchema = v.looseObject({
  model: v.string(),
  messages: v.pipe(v.array(ChatMessageSchema), v.minLength(1, 'messages must contain at least one message')),
  stream: v.nullish(v.boolean()),
  stream_options: v.nullish(v.looseObject({ include_usage: v.nullish(v.boolean()) })),
  n: v.nullish(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1, 'only n=1 is supported'))),
  user: UserSchema,
  ...SHARED_TUNING,
  max_tokens: positiveInt,
  max_completion_tokens: positiveInt,
  presence_penalty: numberIn(-2, 2),
  frequency_penalty: numberIn(-2, 2),
  seed: v.nullish(v.pipe(v.number('expected an integer'), v.integer('expected an integer'))),
  stop: v.nullish(v.union([v.string(), v.array(v.string())], 'expected a string or an array of strings')),
  logprobs: boolean,
  response_format: jsonObject,
});
export type ChatCompletionBody = v.InferOutput<typeof ChatCompletionBodySchema>;
export type ChatMessage = v.InferOutput<typeof ChatMessageSchema>;

const ResponseContentPartSchema = v.variant('type', [
  v.looseObject({ type: v.literal('input_text'), text: v.string() }),
  v.looseObject({ type: v.literal('output_text'), text: v.string() }),
  v.looseObject({ type: v.literal('input_image'), image_url: v.nullish(v.string()) }),
]);

const ResponseMessageItemSchema = v.looseObject({
  type: v.optional(v.literal('message')),
  role: v.picklist(['user', 'assistant', 'system', 'developer']),
  content: v.union([v.string(), v.array(ResponseContentPartSchema)]),
});

/** A client's result for a function call (turn-based client tools). */
const FunctionCallOutputItemSchema = v.looseObject({
  type: v.literal('function_call_output'),
  call_id: v.pipe(v.string('expected a string'), v.minLength(1, 'must not be empty')),
  output: v.string('expected a string'),
});

/** Items the client echoes back (its copy of `response.output`, reasoning): accepted, the session holds them. */
const EchoedItemSchema = v.looseObject({ type: v.picklist(['function_call', 'reasoning', 'item_reference']) });

/** Dispatch on `type` so an error names the field of the item's own kind. */
const ResponseInputItemSchema = v.pipe(
  v.unknown(),
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const value = dataset.value;
    const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
    const schema = type === 'function_call_output' ? FunctionCallOutputItemSchema : type === 'function_call' || type === 'reasoning' || type === 'item_reference' ? EchoedItemSchema : ResponseMessageItemSchema;
    const result = v.safeParse(schema, value);
    if (result.success) return result.output as ResponseInputItem;
    for (const issue of result.issues) addIssue({ message: issue.message, path: issue.path, received: issue.received } as never);
    return NEVER;
  }),
);
export type ResponseInputItem =
  | v.InferOutput<typeof ResponseMessageItemSchema>
  | v.InferOutput<typeof FunctionCallOutputItemSchema>
  | v.InferOutput<typeof EchoedItemSchema>;

export const ResponsesBodySchema = v.looseObject({
  model: v.string(),
  input: v.union([v.string(), v.pipe(v.array(ResponseInputItemSchema), v.minLength(1, 'input must not be empty'))]),
  instructions: v.nullish(v.string()),
  stream: v.nullish(v.boolean()),
  previous_response_id: v.nullish(v.string()),
  user: UserSchema,
  ...SHARED_TUNING,
  max_output_tokens: positiveInt,
  max_tool_calls: positiveInt,
  reasoning: jsonObject,
  truncation: v.nullish(v.picklist(['auto', 'disabled'], "expected 'auto' or 'disabled'")),
});
export type ResponsesBody = v.InferOutput<typeof ResponsesBodySchema>;

/** Validate a parsed body; a failure becomes a 400 naming the first failing path as `param`. */
export function parseBody<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OpenAiRequestError('The request body must be a JSON object.');
  }
  const result = v.safeParse(schema, value);
  if (result.success) return result.output;
  const { issue, path } = deepestIssue(result.issues[0]);
  const param = formatPath(path);
  const missing = issue.received === 'undefined' && param !== null;
  const message = missing
    ? `Missing required parameter: '${param}'.`
    : param === null
      ? issue.message
      : `Invalid '${param}': ${issue.message}`;
  throw new OpenAiRequestError(message, { param, code: missing ? 'missing_required_parameter' : 'invalid_value' });
}

type PathKey = string | number;

/**
 * A union reports one summary issue; when a branch matched the type but
 * failed inside, its nested issues (with paths relative to the union) say
 * what really failed.
 */
function deepestIssue(first: v.BaseIssue<unknown>): { issue: v.BaseIssue<unknown>; path: PathKey[] } {
  let issue = first;
  let path = keysOf(first);
  for (;;) {
    const deeper = issue.issues?.find((nested) => (nested.path?.length ?? 0) > 0);
    if (deeper === undefined) return { issue, path };
    path = [...path, ...keysOf(deeper)];
    issue = deeper;
  }
}

function keysOf(issue: v.BaseIssue<unknown>): PathKey[] {
  return (issue.path ?? []).map((item) => (typeof item.key === 'number' ? item.key : String(item.key)));
}

/** `messages[0].content` style path, or null at the root. */
function formatPath(path: PathKey[]): string | null {
  if (path.length === 0) return null;
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? key : `.${key}`;
  }
  return out;
}
