/**
 * Entry point of the web chat: wires the page's elements to one gateway
 * connection. Sessions in the sidebar, the open session's history and its
 * streaming run in the main view.
 */

import { agentOfKey, parseAgentList, renderAgentPicker, type AgentChoice } from './agent-picker.js';
import { ChatView } from './chat-view.js';
import { describeError } from './error-text.js';
import { parseChatEvent, parseHistory, parseKeyResult, parseRunResult, parseSessionList, type ChatEvent, type SessionRow } from './frames.js';
import { GatewayClient, type ConnectionState } from './gateway-client.js';
import { markLastTurn } from './message-actions.js';
import { showModel } from './model-badge.js';
import { hideBanner, showBanner, ui } from './page-elements.js';
import { randomId } from './random-id.js';
import { renderSessionList, sessionTitle } from './session-list.js';
import { loadSessionKey, loadToken, saveSessionKey, saveToken, takeTokenFromUrl } from './tab-storage.js';

const HISTORY_LIMIT = 200;
const SESSION_LIST_LIMIT = 100;
const SESSIONS_REFRESH_DELAY_MS = 300;
const DELETE_CONFIRM_MS = 4_000;
const INPUT_MAX_HEIGHT_PX = 200;
const DEFAULT_SESSION_KEY = 'main';

const view = new ChatView(ui.messages, () => markLastTurn(ui.messages, { regenerate: (text) => void sendText(text), edit: editLast }));

interface PageState {
  client: GatewayClient | null;
  sessions: SessionRow[];
  /** The key the user opened, possibly in short form (`main`). */
  currentKey: string;
  /** The gateway's canonical form of currentKey, from chat.history; events are matched against it. */
  canonicalKey: string | null;
  activeRunId: string | null;
  /** Bumped per history read so that a stale answer is dropped. */
  historyLoad: number;
  refreshTimer: ReturnType<typeof setTimeout> | undefined;
  deleteArmedTimer: ReturnType<typeof setTimeout> | undefined;
  showApiSessions: boolean;
  /** The gateway's agents (agents.list); the picker shows when there are two or more. */
  agents: AgentChoice[];
  defaultAgentId: string;
}

const state: PageState = {
  client: null,
  sessions: [],
  currentKey: loadSessionKey() ?? DEFAULT_SESSION_KEY,
  canonicalKey: null,
  activeRunId: null,
  historyLoad: 0,
  refreshTimer: undefined,
  deleteArmedTimer: undefined,
  showApiSessions: false,
  agents: [],
  defaultAgentId: 'main',
};

startPage();

function startPage(): void {
  const fromUrl = takeTokenFromUrl();
  if (fromUrl) saveToken(fromUrl);
  bindUi();
  const token = loadToken();
  if (token) connect(token);
  else showTokenForm('');
}

function connect(token: string): void {
  state.client?.stop();
  ui.tokenView.hidden = true;
  ui.app.hidden = false;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const client = new GatewayClient({
    url: `${scheme}//${location.host}/`,
    token,
    version: __PINCER_VERSION__,
    onState: (connection) => {
      if (state.client === client) renderConnection(connection);
    },
    onConnected: () => {
      if (state.client === client) void resync();
    },
    onEvent: (event, payload) => {
      if (state.client === client && event === 'chat') onChat(parseChatEvent(payload));
    },
  });
  state.client = client;
  client.start();
}

function showTokenForm(error: string): void {
  state.client?.stop();
  state.client = null;
  ui.app.hidden = true;
  ui.tokenView.hidden = false;
  ui.tokenError.textContent = error;
  ui.tokenInput.value = '';
  ui.tokenInput.focus();
}

function renderConnection(connection: ConnectionState): void {
  ui.conn.dataset['state'] = connection.kind;
  ui.conn.title = '';
  switch (connection.kind) {
    case 'connecting':
      ui.conn.textContent = 'Connecting…';
      break;
    case 'connected':
      ui.conn.textContent = 'Connected';
      hideBanner();
      break;
    case 'retrying': {
      const seconds = Math.max(1, Math.round((connection.retryAt - Date.now()) / 1000));
      ui.conn.textContent = `Offline, retrying in ${seconds} s`;
      ui.conn.title = connection.reason;
      if (/rate|too many|unavailable/i.test(connection.reason)) showBanner(connection.reason);
      break;
    }
    case 'refused':
      if (connection.badCredentials) {
        saveToken(null);
        showTokenForm(`The gateway refused this token: ${describeError(connection.error)}`);
        return;
      }
      ui.conn.textContent = 'Disconnected';
      showBanner(describeError(connection.error));
      break;
    case 'stopped':
      ui.conn.textContent = 'Disconnected';
      break;
  }
  updateComposer();
}

/** After every (re)connect: reload the session list and the open session's history. */
async function resync(): Promise<void> {
  await Promise.all([refreshSessions(), loadHistory(), refreshAgents(), state.client ? showModel(state.client, ui.model) : undefined]);
  const row = currentRow();
  if (row?.hasActiveRun && row.lastRunId) state.activeRunId ??= row.lastRunId;
  else if (row && !row.hasActiveRun && view.streamRunId === null) state.activeRunId = null;
  updateComposer();
}

async function refreshSessions(): Promise<void> {
  const client = state.client;
  if (!client?.connected) return;
  try {
    const payload = await client.request('sessions.list', {
      limit: SESSION_LIST_LIMIT,
      includeDerivedTitles: true,
      includeLastMessage: true,
    });
    const rows = parseSessionList(payload);
    if (!rows) throw new Error('the gateway returned an invalid session list');
    state.sessions = rows;
    renderSessions();
  } catch (error) {
    showBanner(`Could not load sessions: ${describeError(error)}`);
  }
}

async function refreshAgents(): Promise<void> {
  const client = state.client;
  if (!client?.connected) return;
  try {
    const list = parseAgentList(await client.request('agents.list', {}));
    if (!list) return;
    state.agents = list.agents;
    state.defaultAgentId = list.defaultId;
    renderAgentPicker(ui.agentPicker, state.agents, currentAgentId());
    renderSessions();
  } catch {
    // An older gateway without agents.list: one agent, no picker.
  }
}

/** The agent of the open session. */
function currentAgentId(): string {
  return agentOfKey(state.canonicalKey ?? state.currentKey, state.defaultAgentId);
}

function scheduleSessionsRefresh(): void {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(() => void refreshSessions(), SESSIONS_REFRESH_DELAY_MS);
}

function currentRow(): SessionRow | undefined {
  const key = (state.canonicalKey ?? state.currentKey).toLowerCase();
  return state.sessions.find((row) => row.key.toLowerCase() === key);
}

function renderSessions(): void {
  const key = state.canonicalKey ?? state.currentKey;
  const rows = [...state.sessions];
  // The open session shows even before it has a message (and so before the gateway lists it).
  if (state.canonicalKey && !currentRow()) {
    rows.unshift({ key: state.canonicalKey, title: null, updatedAt: Date.now(), preview: '', hasActiveRun: false, lastRunId: null });
  }
  renderSessionList(ui.sessionList, {
    rows,
    currentKey: key,
    showApiSessions: state.showApiSessions,
    agentLabels: new Map(state.agents.map((agent) => [agent.id, agent.label])),
    defaultAgentId: state.defaultAgentId,
    onSelect: (selected) => selectSession(selected),
    onToggleApiSessions: () => {
      state.showApiSessions = !state.showApiSessions;
      renderSessions();
    },
  });
  if (!ui.agentPicker.hidden) ui.agentPicker.value = currentAgentId();
  const title = sessionTitle(key, currentRow());
  ui.title.textContent = title;
  document.title = `${title} · Pincer`;
}

async function loadHistory(): Promise<void> {
  const client = state.client;
  if (!client?.connected) return;
  const load = ++state.historyLoad;
  try {
    const payload = await client.request('chat.history', { sessionKey: state.currentKey, limit: HISTORY_LIMIT });
    if (load !== state.historyLoad) return;
    const history = parseHistory(payload);
    if (!history) throw new Error('the gateway returned an invalid history');
    state.canonicalKey = history.sessionKey;
    view.setMessages(history.messages);
    renderSessions();
  } catch (error) {
    if (load === state.historyLoad) showBanner(`Could not load the conversation: ${describeError(error)}`);
  }
}

function selectSession(key: string): void {
  ui.app.classList.remove('sidebar-open');
  closeRename();
  disarmDelete();
  if (state.canonicalKey !== null && key.toLowerCase() === state.canonicalKey.toLowerCase()) return;
  state.currentKey = key;
  state.canonicalKey = null;
  state.activeRunId = null;
  saveSessionKey(key);
  view.clear();
  hideBanner();
  renderSessions();
  void loadHistory().then(() => {
    const row = currentRow();
    if (row?.hasActiveRun && row.lastRunId) state.activeRunId = row.lastRunId;
    updateComposer();
  });
  updateComposer();
}

function onChat(event: ChatEvent | null): void {
  if (!event) return;
  const terminal = event.state === 'final' || event.state === 'aborted' || event.state === 'error';
  if (terminal) scheduleSessionsRefresh();
  // Events of every session reach every operator socket; show only the open one's.
  if (state.canonicalKey === null || event.sessionKey.toLowerCase() !== state.canonicalKey.toLowerCase()) return;
  switch (event.state) {
    case 'delta':
      state.activeRunId = event.runId;
      view.updateStream(event.runId, event.message);
      break;
    case 'final':
      view.endStream(event.runId, event.message, {});
      void loadHistory();
      break;
    case 'aborted':
      view.endStream(event.runId, event.message, { aborted: true });
      break;
    case 'error':
      view.endStream(event.runId, event.message, { errorText: event.errorMessage ?? 'The run failed.' });
      break;
    default:
      return;
  }
  if (terminal && state.activeRunId === event.runId) state.activeRunId = null;
  updateComposer();
}

function sendMessage(): Promise<void> {
  return sendText(ui.input.value, true);
}

/** Put the last message back in the composer to change it and send it as a new turn. */
function editLast(text: string): void {
  ui.input.value = text;
  resizeInput();
  ui.input.focus();
}

async function sendText(text: string, fromInput = false): Promise<void> {
  const client = state.client;
  if (!client?.connected || state.activeRunId !== null || text.trim() === '') return;
  const runId = randomId();
  const sessionKey = state.canonicalKey ?? state.currentKey;
  // A history read still in flight predates this message and would hide it: drop its answer.
  state.historyLoad += 1;
  if (fromInput) ui.input.value = '';
  resizeInput();
  hideBanner();
  const userRow = view.appendMessage({ role: 'user', blocks: [{ type: 'text', text }], timestamp: Date.now() });
  state.activeRunId = runId;
  view.updateStream(runId, null);
  updateComposer();
  try {
    const payload = await client.request('chat.send', { sessionKey, message: text, idempotencyKey: runId });
    const started = parseRunResult(payload);
    if (started && started !== runId && state.activeRunId === runId) state.activeRunId = started;
  } catch (error) {
    userRow.remove();
    view.dropStream(runId);
    if (state.activeRunId === runId) state.activeRunId = null;
    if (ui.input.value === '') ui.input.value = text;
    resizeInput();
    showBanner(describeError(error));
    updateComposer();
  }
}

async function stopRun(): Promise<void> {
  const client = state.client;
  const runId = state.activeRunId;
  if (!client?.connected || runId === null) return;
  try {
    const payload = await client.request('chat.abort', { sessionKey: state.canonicalKey ?? state.currentKey, runId });
    // Nothing was running any more: the terminal event was missed, so resync.
    if (typeof payload === 'object' && payload !== null && 'aborted' in payload && payload.aborted === false) {
      if (state.activeRunId === runId) state.activeRunId = null;
      view.dropStream(runId);
      await loadHistory();
      updateComposer();
    }
  } catch (error) {
    showBanner(`Could not stop the run: ${describeError(error)}`);
  }
}

async function createSession(): Promise<void> {
  const client = state.client;
  if (!client?.connected) return;
  try {
    // A new chat belongs to the agent of the open session (the picker's choice).
    const key = parseKeyResult(await client.request('sessions.patch', { key: `agent:${currentAgentId()}:${randomId()}` }));
    if (!key) throw new Error('the gateway returned an invalid response');
    await refreshSessions();
    selectSession(key);
    ui.input.focus();
  } catch (error) {
    showBanner(`Could not create a session: ${describeError(error)}`);
  }
}

async function renameSession(label: string): Promise<void> {
  const client = state.client;
  if (!client?.connected) return;
  try {
    const key = state.canonicalKey ?? state.currentKey;
    await client.request('sessions.patch', { key, label: label.trim() === '' ? null : label.trim() });
    closeRename();
    await refreshSessions();
  } catch (error) {
    showBanner(`Could not rename: ${describeError(error)}`);
  }
}

async function deleteSession(): Promise<void> {
  const client = state.client;
  if (!client?.connected) return;
  const key = state.canonicalKey ?? state.currentKey;
  try {
    await client.request('sessions.delete', { key });
    await refreshSessions();
    const next = state.sessions.find((row) => row.key.toLowerCase() !== key.toLowerCase());
    state.canonicalKey = null;
    selectSession(next?.key ?? DEFAULT_SESSION_KEY);
  } catch (error) {
    showBanner(`Could not delete: ${describeError(error)}`);
  }
}

function bindUi(): void {
  ui.composer.addEventListener('submit', (event) => {
    event.preventDefault();
    void sendMessage();
  });
  ui.input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      void sendMessage();
    }
  });
  ui.input.addEventListener('input', resizeInput);
  ui.stop.addEventListener('click', () => void stopRun());
  ui.newSession.addEventListener('click', () => void createSession());
  ui.agentPicker.addEventListener('change', () => selectSession(`agent:${ui.agentPicker.value}:main`));
  ui.rename.addEventListener('click', openRename);
  ui.renameCancel.addEventListener('click', closeRename);
  ui.renameForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void renameSession(ui.renameInput.value);
  });
  ui.remove.addEventListener('click', () => {
    if (ui.remove.dataset['armed'] === 'true') {
      disarmDelete();
      void deleteSession();
      return;
    }
    ui.remove.dataset['armed'] = 'true';
    ui.remove.textContent = 'Confirm delete';
    state.deleteArmedTimer = setTimeout(disarmDelete, DELETE_CONFIRM_MS);
  });
  ui.menu.addEventListener('click', () => ui.app.classList.toggle('sidebar-open'));
  ui.backdrop.addEventListener('click', () => ui.app.classList.remove('sidebar-open'));
  ui.bannerClose.addEventListener('click', hideBanner);
  ui.forgetToken.addEventListener('click', () => {
    saveToken(null);
    showTokenForm('');
  });
  ui.tokenForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const token = ui.tokenInput.value.trim();
    if (token === '') return;
    ui.tokenInput.value = '';
    saveToken(token);
    connect(token);
  });
  window.addEventListener('hashchange', () => {
    const token = takeTokenFromUrl();
    if (token) {
      saveToken(token);
      connect(token);
    }
  });
  window.addEventListener('online', () => state.client?.retryNow());
}

function openRename(): void {
  ui.renameInput.value = currentRow()?.title ?? '';
  ui.renameForm.hidden = false;
  ui.title.hidden = true;
  ui.renameInput.focus();
  ui.renameInput.select();
}

function closeRename(): void {
  ui.renameForm.hidden = true;
  ui.title.hidden = false;
}

function disarmDelete(): void {
  clearTimeout(state.deleteArmedTimer);
  delete ui.remove.dataset['armed'];
  ui.remove.textContent = 'Delete';
}

function updateComposer(): void {
  const connected = state.client?.connected ?? false;
  const running = state.activeRunId !== null;
  ui.send.hidden = running;
  ui.stop.hidden = !running;
  ui.messages.classList.toggle('busy', running || !connected);
  ui.send.disabled = !connected;
  ui.stop.disabled = !connected;
  ui.newSession.disabled = !connected;
  ui.rename.disabled = !connected;
  ui.remove.disabled = !connected;
}

function resizeInput(): void {
  ui.input.style.height = 'auto';
  ui.input.style.height = `${Math.min(ui.input.scrollHeight, INPUT_MAX_HEIGHT_PX)}px`;
}
