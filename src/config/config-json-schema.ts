/**
 * The config file schema as JSON Schema (config.schema, config.schema.lookup),
 * derived from the one valibot schema start-up validates with, so the two
 * cannot drift. Each node's `description` is the schema's own error text
 * ("expected an integer from 1 to 1000 (model calls per run)").
 */

import type { GenericSchema } from 'valibot';
import { fileConfigSchema } from './schema.js';

/** A JSON Schema node (draft 2020-12 subset). */
export type JsonSchemaNode = Record<string, unknown>;

interface ValibotNode {
  kind?: string;
  type: string;
  message?: unknown;
  requirement?: unknown;
  pipe?: readonly ValibotNode[];
  entries?: Record<string, ValibotNode>;
  wrapped?: ValibotNode;
  item?: ValibotNode;
  value?: ValibotNode;
  options?: readonly unknown[];
}

let cached: JsonSchemaNode | undefined;

/** The JSON Schema of the config file (built once). */
export function configJsonSchema(): JsonSchemaNode {
  cached ??= {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Pincer config',
    ...toJsonSchema(fileConfigSchema as unknown as GenericSchema),
  };
  return cached;
}

/** Convert one valibot schema (the subset schema.ts uses) to JSON Schema. */
export function toJsonSchema(schema: GenericSchema): JsonSchemaNode {
  return convert(schema as unknown as ValibotNode);
}

function convert(node: ValibotNode): JsonSchemaNode {
  if (node.pipe !== undefined) return convertPipe(node.pipe);
  const out: JsonSchemaNode = {};
  switch (node.type) {
    case 'strict_object':
    case 'object': {
      const entries = Object.entries(node.entries ?? {});
      out.type = 'object';
      out.properties = Object.fromEntries(entries.map(([key, entry]) => [key, convert(entry)]));
      const required = entries.filter(([, entry]) => entry.type !== 'optional').map(([key]) => key);
      if (required.length > 0) out.required = required;
      out.additionalProperties = false;
      break;
    }
    case 'optional':
      return node.wrapped === undefined ? {} : convert(node.wrapped);
    case 'string':
    case 'number':
    case 'boolean':
      out.type = node.type;
      break;
    case 'picklist':
      out.type = 'string';
      out.enum = [...(node.options ?? [])];
      break;
    case 'array':
      out.type = 'array';
      if (node.item !== undefined) out.items = convert(node.item);
      break;
    case 'record':
      out.type = 'object';
      if (node.value !== undefined) out.additionalProperties = convert(node.value);
      break;
    default:
      // `custom` refines another node in the same pipe; alone it says nothing JSON Schema can.
      break;
  }
  if (typeof node.message === 'string' && Object.keys(out).length > 0) out.description = node.message;
  return out;
}

/** A pipe: merge its schemas (a nested pipe included), then apply its validations. */
function convertPipe(pipe: readonly ValibotNode[]): JsonSchemaNode {
  const out: JsonSchemaNode = {};
  for (const step of pipe) {
    if (step.kind === 'schema') {
      Object.assign(out, convert(step));
      continue;
    }
    switch (step.type) {
      case 'integer':
        out.type = 'integer';
        break;
      case 'min_value':
        out.minimum = step.requirement;
        break;
      case 'max_value':
        out.maximum = step.requirement;
        break;
      case 'max_length':
        out[out.type === 'array' ? 'maxItems' : 'maxLength'] = step.requirement;
        break;
      case 'min_length':
        out[out.type === 'array' ? 'minItems' : 'minLength'] = step.requirement;
        break;
      case 'regex':
        if (step.requirement instanceof RegExp) out.pattern = step.requirement.source;
        break;
      case 'url':
        out.format = 'uri';
        break;
      default:
        break;
    }
    if (typeof step.message === 'string' && out.description === undefined) out.description = step.message;
  }
  return out;
}
