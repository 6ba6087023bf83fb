/**
 * The bot's slash commands: /new (or /reset), /stop, /status, /help. Each
 * acts on the chat's session through the assistant façade and answers with
 * one short message.
 */

import type { Assistant } from '../../assistant/types.js';

export const COMMANDS = [
  { command: 'new', description: 'Start a new conversation' },
  { command: 'reset', description: 'Same as /new' },
  { command: 'stop', description: 'Stop the reply in progress' },
  { command: 'status', description: 'Show the session and model' },
  { command: 'help', description: 'List the commands' },
] as const;

/** `/cmd` or `/cmd@bot args` at the start of a message; undefined for other text or another bot's command. */
export function parseCommand(text: string, botUsername: string | undefined): string | undefined {
  const match = /^\/([a-z_]+)(?:@([A-Za-z0-9_]+))?(?:\s|$)/i.exec(text.trim());
  if (match === null) return undefined;
  if (match[2] !== undefined && botUsername !== undefined && match[2].toLowerCase() !== botUsername.toLowerCase()) return undefined;
  return match[1].toLowerCase();
}

/** Run a known command and return the answer; undefined for a command the bot does not have. */
export async function runCommand(name: string, deps: { assistant: Assistant; sessionKey: string; model: string }): Promise<string | undefined> {
  const { assistant, sessionKey } = deps;
  switch (name) {
    case 'new':
    case 'reset':
    case 'start':
      if (name === 'start' && assistant.describe(sessionKey) !== undefined) return helpText();
      await assistant.reset(sessionKey);
      return name === 'start' ? helpText() : '🆕 New conversation started.';
    case 'stop': {
      const stopped = assistant.abort(sessionKey);
      return stopped.length === 0 ? 'Nothing is running.' : `⏹ Stopped ${stopped.length === 1 ? 'the reply' : `${stopped.length} replies`}.`;
    }
    case 'status': {
      const session = assistant.describe(sessionKey);
      const busy = assistant.activeSessionKeys().has(sessionKey);
      return [
        `Session: ${sessionKey}`,
        `Messages: ${session?.messageCount ?? 0}`,
        `Model: ${deps.model === '' ? 'none configured' : deps.model}`,
        `Working: ${busy ? 'yes' : 'no'}`,
      ].join('\n');
    }
    case 'help':
      return helpText();
    default:
      return undefined;
  }
}

function helpText(): string {
  return ['Send a message or a photo and I will answer.', ...COMMANDS.map((entry) => `/${entry.command} — ${entry.description}`)].join('\n');
}
