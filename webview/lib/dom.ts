/**
 * DOM building without HTML strings: dataset text only ever becomes Text nodes or attribute values
 * set through the DOM, so markup in the data stays text.
 */

export type Child = Node | string | number | false | null | undefined;

export interface Props {
  class?: string;
  title?: string;
  /** Attributes set with `setAttribute` (values are data, never parsed as HTML). */
  attrs?: Record<string, string | number | boolean | undefined>;
  on?: Partial<Record<keyof HTMLElementEventMap, (e: Event) => void>>;
}

/** `h('td', {class: 'n'}, '12')`; works for custom elements (`vscode-badge`) too. */
export function h(tag: string, props: Props = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  if (props.class) el.className = props.class;
  if (props.title !== undefined) el.title = props.title;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const [event, listener] of Object.entries(props.on ?? {})) if (listener) el.addEventListener(event, listener);
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === false || c === null || c === undefined) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces the children of `parent`. */
export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}

/** Replaces the page with a centred message (no data to show yet, or an error). */
export function renderMessage(app: HTMLElement, message: string): void {
  replaceChildren(app, h('div', { class: 'empty' }, h('p', {}, message)));
  app.setAttribute('aria-busy', 'false');
}

/** A dataset page's update: its data rendered and its URI kept for a restored panel, or the message why there is none. */
export function showDatasetUpdate<T extends { uri: string }>(
  update: { data?: T; message?: string },
  page: { app: HTMLElement; progress: HTMLElement; keep(state: { uri: string }): void; render(data: T): void; nothing: string },
): void {
  page.progress.hidden = true;
  if (update.data === undefined) return renderMessage(page.app, update.message ?? page.nothing);
  page.keep({ uri: update.data.uri });
  page.render(update.data);
}

/**
 * A page's header (media/webview.css `.page-header`): the title and the lines under it on the left,
 * the action buttons on the right.
 */
export function pageHeader(title: HTMLElement, lines: Child[], actions: Child[] = []): HTMLElement {
  return h(
    'header',
    { class: 'page-header' },
    h('div', { class: 'titles' }, title, ...lines),
    actions.length > 0 ? h('div', { class: 'actions' }, ...actions) : undefined,
  );
}

/** One line under a page's title; `tooltip` shows what does not fit (a path, a model file). */
export function subtitle(tooltip: string | undefined, ...children: Child[]): HTMLElement {
  return h('div', { class: 'subtitle', title: tooltip }, ...children);
}

/** A toolkit button; `secondary` for the less important actions of a page. */
export function button(label: string, onClick: () => void, secondary = false, title?: string): HTMLElement {
  return h('vscode-button', { attrs: { secondary }, title, on: { click: onClick } }, label);
}

/** A summary card of a report page (media/webview.css `.card`): label, value, and an optional detail line. */
export function card(label: string, value: Child, detail?: Child, tone?: 'error' | 'warning' | 'ok'): HTMLElement {
  return h(
    'div',
    { class: `card${tone ? ` ${tone}` : ''}` },
    h('div', { class: 'card-label' }, label),
    h('div', { class: 'card-value' }, value),
    detail ? h('div', { class: 'card-detail' }, detail) : undefined,
  );
}
