/**
 * What the end-to-end run watches in the browser: every request the Control
 * UI sends over its WebSocket and how it was answered, console errors, page
 * errors and failed HTTP requests, each stamped with the page being visited.
 */

import type { Page, WebSocket as PageSocket } from 'playwright-core';

export interface MethodFailure {
  method: string;
  code: string;
  message: string;
  page: string;
}

export interface PageProblem {
  kind: 'console' | 'pageerror' | 'http';
  text: string;
  page: string;
}

export class UiSession {
  /** The page label problems and calls are filed under. */
  current = 'start';
  readonly calls = new Map<string, { ok: number; failed: number }>();
  readonly failures: MethodFailure[] = [];
  readonly problems: PageProblem[] = [];
  /** `chat` events with state `delta`, counted per run id. */
  readonly chatDeltas = new Map<string, number>();
  helloAuth: Record<string, unknown> | undefined;
  #pending = new Map<string, string>();

  constructor(page: Page) {
    page.on('console', (message) => {
      if (message.type() === 'error') this.problems.push({ kind: 'console', text: message.text().slice(0, 300), page: this.current });
    });
    page.on('pageerror', (error) => this.problems.push({ kind: 'pageerror', text: error.message.slice(0, 300), page: this.current }));
    page.on('response', (response) => {
      if (response.status() >= 400) this.problems.push({ kind: 'http', text: `${response.status()} ${new URL(response.url()).pathname}`, page: this.current });
    });
    page.on('websocket', (socket) => this.#watch(socket));
  }

  /** Calls and failures since `mark` (an index into `failures`). */
  failuresSince(mark: number): MethodFailure[] {
    return this.failures.slice(mark);
  }

  problemsSince(mark: number): PageProblem[] {
    return this.problems.slice(mark);
  }

  #watch(socket: PageSocket): void {
    socket.on('framesent', (frame) => {
      const message = parseFrame(frame.payload);
      if (message?.type === 'req' && typeof message.id === 'string' && typeof message.method === 'string') {
        this.#pending.set(message.id, message.method);
      }
    });
    socket.on('framereceived', (frame) => {
      const message = parseFrame(frame.payload);
      if (message === undefined) return;
      if (message.type === 'event' && message.event === 'chat') {
        const payload = message.payload as { runId?: string; state?: string } | undefined;
        if (payload?.state === 'delta' && payload.runId) this.chatDeltas.set(payload.runId, (this.chatDeltas.get(payload.runId) ?? 0) + 1);
        return;
      }
      if (message.type !== 'res' || typeof message.id !== 'string') return;
      const method = this.#pending.get(message.id);
      if (method === undefined) return;
      // `agent` answers twice; keep the id until a terminal answer is unlikely to matter.
      if (method !== 'agent') this.#pending.delete(message.id);
      const tally = this.calls.get(method) ?? { ok: 0, failed: 0 };
      if (message.ok === true) {
        tally.ok++;
        const payload = message.payload as { type?: string; auth?: Record<string, unknown> } | undefined;
        if (method === 'connect' && payload?.type === 'hello-ok') this.helloAuth = payload.auth;
      } else {
        tally.failed++;
        const error = (message.error ?? {}) as { code?: string; message?: string };
        this.failures.push({ method, code: String(error.code ?? ''), message: String(error.message ?? '').slice(0, 200), page: this.current });
      }
      this.calls.set(method, tally);
    });
  }
}

function parseFrame(payload: string | Buffer): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
