/** The page's fixed elements (index.html), looked up once; a missing one fails at start-up. */

import { requireEl } from './dom.js';

export const ui = {
  app: requireEl('app', HTMLDivElement),
  sessionList: requireEl('session-list', HTMLUListElement),
  newSession: requireEl('new-session', HTMLButtonElement),
  agentPicker: requireEl('agent-picker', HTMLSelectElement),
  forgetToken: requireEl('forget-token', HTMLButtonElement),
  backdrop: requireEl('backdrop', HTMLDivElement),
  menu: requireEl('menu', HTMLButtonElement),
  title: requireEl('chat-title', HTMLHeadingElement),
  renameForm: requireEl('rename-form', HTMLFormElement),
  renameInput: requireEl('rename-input', HTMLInputElement),
  renameCancel: requireEl('rename-cancel', HTMLButtonElement),
  rename: requireEl('rename', HTMLButtonElement),
  remove: requireEl('delete', HTMLButtonElement),
  conn: requireEl('conn', HTMLSpanElement),
  model: requireEl('model', HTMLSpanElement),
  banner: requireEl('banner', HTMLDivElement),
  bannerText: requireEl('banner-text', HTMLSpanElement),
  bannerClose: requireEl('banner-close', HTMLButtonElement),
  messages: requireEl('messages', HTMLDivElement),
  composer: requireEl('composer', HTMLFormElement),
  input: requireEl('input', HTMLTextAreaElement),
  send: requireEl('send', HTMLButtonElement),
  stop: requireEl('stop', HTMLButtonElement),
  tokenView: requireEl('token-view', HTMLDivElement),
  tokenForm: requireEl('token-form', HTMLFormElement),
  tokenInput: requireEl('token-input', HTMLInputElement),
  tokenError: requireEl('token-error', HTMLParagraphElement),
};

/** Show a dismissible error line above the messages. */
export function showBanner(text: string): void {
  ui.bannerText.textContent = text;
  ui.banner.hidden = false;
}

export function hideBanner(): void {
  ui.banner.hidden = true;
  ui.bannerText.textContent = '';
}
