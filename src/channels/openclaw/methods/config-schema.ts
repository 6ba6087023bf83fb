/**
 * config.schema and config.schema.lookup: the config file's JSON Schema,
 * derived from the schema start-up validates with, and per path the node,
 * its children and whether a change applies live (`reloadKind`).
 */

import * as v from 'valibot';
import { configJsonSchema, type JsonSchemaNode } from '../../../config/config-json-schema.js';
import { reloadKindOf } from '../../../config/reload-plan.js';
import { GatewayError } from '../../../protocol/errors.js';
import type { MethodTable } from '../method-types.js';

export interface ConfigSchemaDeps {
  version: string;
}

/** Keys shown masked by config.get (the same names the redaction uses). */
const SENSITIVE_KEY = /(token|password|apiKey|env|headers)$/i;
/** Longest path config.schema.lookup accepts, characters. */
const MAX_LOOKUP_PATH_CHARS = 512;

const LookupParams = v.object({
  path: v.pipe(v.string('path: expected a dotted config path such as gateway.port'), v.maxLength(MAX_LOOKUP_PATH_CHARS, `path: at most ${MAX_LOOKUP_PATH_CHARS} characters`)),
});

/** Build config.schema and config.schema.lookup. */
export function createConfigSchemaMethods(deps: ConfigSchemaDeps): MethodTable {
  const generatedAt = new Date().toISOString();
  return {
    'config.schema': {
      params: v.object({}),
      scope: 'operator.admin',
      handler() {
        const schema = configJsonSchema();
        return { schema, uiHints: uiHintsOf(schema), version: deps.version, generatedAt };
      },
    },
    'config.schema.lookup': {
      params: LookupParams,
      scope: 'operator.admin',
      handler(params: v.InferOutput<typeof LookupParams>) {
        const path = params.path.trim();
        const node = findNode(configJsonSchema(), path);
        if (node === undefined) throw new GatewayError('INVALID_REQUEST', `config schema path not found: ${path}`);
        const children = childrenOf(node).map(([key, child, required]) => {
          const childPath = path === '' ? key : `${path}.${key}`;
          return {
            key,
            path: childPath,
            type: child.type ?? 'any',
            required,
            hasChildren: childrenOf(child).length > 0,
            reloadKind: reloadKindOf(childPath),
            hint: hintOf(key),
            hintPath: childPath,
          };
        });
        return { path, schema: shallow(node), reloadKind: path === '' ? 'restart' : reloadKindOf(path), hint: hintOf(path.split('.').at(-1) ?? ''), hintPath: path, children };
      },
    },
  };
}

/** OpenClaw's uiHints: per dotted path, whether the value is a secret. */
function uiHintsOf(schema: JsonSchemaNode, prefix = '', out: Record<string, Record<string, unknown>> = {}): Record<string, Record<string, unknown>> {
  for (const [key, child] of childrenOf(schema)) {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    if (SENSITIVE_KEY.test(key)) out[path] = { sensitive: true };
    uiHintsOf(child, path, out);
  }
  return out;
}

function hintOf(key: string): Record<string, unknown> {
  return SENSITIVE_KEY.test(key) ? { sensitive: true, advanced: false } : { advanced: false };
}

/** The node at a dotted path; `*` or any key steps into a record, a number or `*` into an array. */
function findNode(root: JsonSchemaNode, path: string): JsonSchemaNode | undefined {
  if (path === '') return root;
  let node: JsonSchemaNode | undefined = root;
  for (const key of path.split('.')) {
    if (node === undefined) return undefined;
    const properties = node.properties as Record<string, JsonSchemaNode> | undefined;
    if (properties !== undefined && Object.hasOwn(properties, key)) node = properties[key];
    else if (isNode(node.additionalProperties)) node = node.additionalProperties;
    else if (node.type === 'array' && isNode(node.items) && (key === '*' || /^\d+$/.test(key))) node = node.items;
    else return undefined;
  }
  return node;
}

/** [key, node, required] for each named child. */
function childrenOf(node: JsonSchemaNode): [string, JsonSchemaNode, boolean][] {
  const properties = node.properties as Record<string, JsonSchemaNode> | undefined;
  if (properties === undefined) return [];
  const required = new Set((node.required as string[] | undefined) ?? []);
  return Object.entries(properties).map(([key, child]) => [key, child, required.has(key)]);
}

/** The node without its nested properties (children are summarised separately). */
function shallow(node: JsonSchemaNode): JsonSchemaNode {
  const { properties: _properties, items, additionalProperties, ...rest } = node;
  const out: JsonSchemaNode = { ...rest };
  if (isNode(items)) out.items = { type: items.type };
  if (typeof additionalProperties === 'boolean') out.additionalProperties = additionalProperties;
  else if (isNode(additionalProperties)) out.additionalProperties = { type: additionalProperties.type };
  return out;
}

function isNode(value: unknown): value is JsonSchemaNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
