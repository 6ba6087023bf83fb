/**
 * Turn an MCP tool's inputSchema into a parameters schema both providers
 * accept. Servers send full JSON Schema; the OpenAI and Anthropic APIs (and
 * the OpenAI-compatible servers behind Ollama or vLLM) want a plain object
 * schema: `type: "object"` at the root with no anyOf/oneOf/allOf there (both
 * refuse it), no `$ref` to `$defs` (several compatible servers cannot follow
 * one), and no meta keys such as `$schema`.
 */

/** Deepest nesting kept; deeper parts (and recursive `$ref`s) become `{}`, "any value". */
const MAX_SCHEMA_DEPTH = 12;
/** Meta and definition keys dropped everywhere. */
const DROPPED_KEYS = new Set(['$schema', '$id', '$comment', '$defs', 'definitions', '$anchor', '$dynamicAnchor', '$dynamicRef', '$vocabulary']);
/** Keys whose value is a map of sub-schemas. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
/** Keys whose value is one sub-schema. */
const SCHEMA_VALUES = new Set(['items', 'additionalProperties', 'not', 'contains', 'propertyNames', 'if', 'then', 'else', 'unevaluatedProperties', 'additionalItems']);
/** Keys whose value is a list of sub-schemas. */
const SCHEMA_LISTS = new Set(['anyOf', 'oneOf', 'allOf', 'prefixItems']);
const ROOT_COMBINATORS = ['allOf', 'anyOf', 'oneOf'] as const;

type Schema = Record<string, unknown>;

/** A cleaned copy of `inputSchema`; never throws, whatever the server sent. */
export function cleanToolSchema(inputSchema: unknown): Schema {
  const root = isObject(inputSchema) ? inputSchema : {};
  const cleaned = cleanNode(root, root, 0, []);
  const schema = isObject(cleaned) ? flattenRoot(cleaned) : {};
  schema.type = 'object';
  if (!isObject(schema.properties)) schema.properties = {};
  const properties = schema.properties as Schema;
  if (Array.isArray(schema.required)) {
    const required = schema.required.filter((name): name is string => typeof name === 'string' && Object.hasOwn(properties, name));
    if (required.length > 0) schema.required = [...new Set(required)];
    else delete schema.required;
  } else {
    delete schema.required;
  }
  return schema;
}

function cleanNode(node: unknown, root: Schema, depth: number, refs: readonly string[]): unknown {
  if (node === true) return {};
  if (!isObject(node)) return node;
  if (depth > MAX_SCHEMA_DEPTH) return {};
  if (typeof node.$ref === 'string') {
    const ref = node.$ref;
    const target = resolveLocalRef(root, ref);
    if (target === undefined || refs.includes(ref)) return withoutRef(node, {});
    // Keywords beside a $ref (a description, say) apply as well.
    return withoutRef(node, cleanNode(target, root, depth + 1, [...refs, ref]));
  }
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED_KEYS.has(key)) continue;
    if (SCHEMA_MAPS.has(key) && isObject(value)) {
      const map: Schema = {};
      for (const [name, sub] of Object.entries(value)) {
        if (sub === false) continue;
        map[name] = cleanNode(sub, root, depth + 1, refs);
      }
      out[key] = map;
    } else if (SCHEMA_VALUES.has(key)) {
      out[key] = typeof value === 'boolean' ? value : cleanNode(value, root, depth + 1, refs);
    } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
      out[key] = value.map((sub) => cleanNode(sub, root, depth + 1, refs));
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** `#/$defs/Name`, `#/definitions/Name` or any other JSON pointer into the root; undefined when it leads nowhere. */
function resolveLocalRef(root: Schema, ref: string): unknown {
  if (ref === '#') return root;
  if (!ref.startsWith('#/')) return undefined;
  let at: unknown = root;
  for (const raw of ref.slice(2).split('/')) {
    const part = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(at) || !Object.hasOwn(at, part)) return undefined;
    at = at[part];
  }
  return at;
}

function withoutRef(node: Schema, target: unknown): Schema {
  const siblings: Schema = {};
  for (const [key, value] of Object.entries(node)) if (key !== '$ref' && !DROPPED_KEYS.has(key)) siblings[key] = value;
  return isObject(target) ? { ...target, ...siblings } : siblings;
}

/**
 * Fold root-level allOf/anyOf/oneOf into one object schema. allOf members'
 * properties and required names all apply; for anyOf/oneOf every member's
 * properties are offered and only names required by all of them stay required.
 */
function flattenRoot(schema: Schema): Schema {
  const out: Schema = { ...schema };
  const properties: Schema = isObject(out.properties) ? { ...out.properties } : {};
  let required = new Set(Array.isArray(out.required) ? out.required.filter((n): n is string => typeof n === 'string') : []);
  for (const key of ROOT_COMBINATORS) {
    const members = out[key];
    delete out[key];
    if (!Array.isArray(members)) continue;
    const objects = members.filter(isObject);
    for (const member of objects) if (isObject(member.properties)) Object.assign(properties, member.properties);
    const requiredOf = (member: Schema): string[] => (Array.isArray(member.required) ? member.required.filter((n): n is string => typeof n === 'string') : []);
    if (key === 'allOf') {
      for (const member of objects) for (const name of requiredOf(member)) required.add(name);
    } else if (objects.length > 0) {
      const common = objects.map(requiredOf).reduce((a, b) => a.filter((name) => b.includes(name)));
      required = new Set([...required, ...common]);
      const choice = objects.map((member) => requiredOf(member)).filter((names) => names.length > 0);
      if (choice.length > 1) {
        const hint = `Pass one of these sets of arguments: ${choice.map((names) => names.join(' + ')).join('; ')}.`;
        out.description = typeof out.description === 'string' ? `${out.description} ${hint}` : hint;
      }
    }
  }
  out.properties = properties;
  if (required.size > 0) out.required = [...required];
  else delete out.required;
  return out;
}

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
