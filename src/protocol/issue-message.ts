/**
 * Turns the first valibot issue into the Ajv-style wording OpenClaw clients
 * see, e.g. `must have required property 'message'` (observed A-29) or
 * `at /client/id: must be string`.
 */

import type { BaseIssue } from 'valibot';

type Issue = BaseIssue<unknown>;

const TYPE_NAMES: Record<string, string> = {
  string: 'string',
  number: 'number',
  boolean: 'boolean',
  array: 'array',
  object: 'object',
  loose_object: 'object',
  strict_object: 'object',
  record: 'object',
  integer: 'integer',
  null: 'null',
};

/** Ajv-like `instancePath` ("/a/0/b") of an issue path. */
export function formatIssuePath(issue: Issue): string {
  if (!issue.path || issue.path.length === 0) return '';
  return issue.path.map((item) => `/${String(item.key)}`).join('');
}

/** One line describing the first issue; empty list gives a generic text. */
export function formatFirstIssue(issues: readonly Issue[] | undefined): string {
  const issue = issues?.[0];
  if (issue === undefined) return 'invalid value';
  // A missing key: valibot reports it at the key with received "undefined";
  // Ajv reports `must have required property` at the parent.
  if (issue.kind === 'schema' && issue.type === 'object' && issue.received === 'undefined' && issue.path?.length) {
    const parent = { ...issue, path: issue.path.slice(0, -1) } as Issue;
    const key = String(issue.path[issue.path.length - 1]!.key);
    return withPath(parent, `must have required property '${key}'`);
  }
  return withPath(issue, describe(issue));
}

function withPath(issue: Issue, text: string): string {
  const path = formatIssuePath(issue);
  return path === '' ? text : `at ${path}: ${text}`;
}

function describe(issue: Issue): string {
  // Schemas built with a custom message keep it; valibot's defaults start with "Invalid ".
  if (!issue.message.startsWith('Invalid ')) return issue.message;
  const requirement = (issue as { requirement?: unknown }).requirement;
  switch (issue.type) {
    case 'min_length':
      return `must NOT have fewer than ${String(requirement)} ${unitOf(issue)}`;
    case 'max_length':
      return `must NOT have more than ${String(requirement)} ${unitOf(issue)}`;
    case 'min_value':
      return `must be >= ${String(requirement)}`;
    case 'max_value':
      return `must be <= ${String(requirement)}`;
    case 'picklist':
    case 'literal':
    case 'enum':
    case 'union':
    case 'variant':
      return 'must be equal to one of the allowed values';
    case 'regex':
      return 'must match pattern';
    default: {
      const name = TYPE_NAMES[issue.type];
      return name === undefined ? issue.message : `must be ${name}`;
    }
  }
}

function unitOf(issue: Issue): string {
  return Array.isArray(issue.input) ? 'items' : 'characters';
}
