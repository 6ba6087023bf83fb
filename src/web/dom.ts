/** Small helpers to build elements without HTML strings. */

export interface ElementOptions {
  className?: string;
  text?: string;
  attrs?: Record<string, string>;
}

/** Create an element with an optional class, text content and attributes, then append children. */
export function createEl<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  options: ElementOptions = {},
  children: Node[] = [],
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (options.className) element.className = options.className;
  if (options.text !== undefined) element.textContent = options.text;
  for (const [name, value] of Object.entries(options.attrs ?? {})) element.setAttribute(name, value);
  for (const child of children) element.appendChild(child);
  return element;
}

/** The element with this id; throws when the page markup lacks it. */
export function requireEl<T extends HTMLElement>(id: string, type: new () => T): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) throw new Error(`page markup is missing #${id}`);
  return element;
}
