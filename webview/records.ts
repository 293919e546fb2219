// Record browser webview: a virtually scrolled list over every record of a dataset (rows are
// fetched from the host in pages by index) and a detail pane with the whole record.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { h, pageHeader, replaceChildren, subtitle } from './lib/dom';
import { formatCount } from './lib/format';
import { l10n } from './lib/l10n';
import { connect } from './lib/vscode-api';
import type { DatasetHeader, RecordDetail, RecordEditAction, RecordRow, RecordsState, ResponseDetail } from './records-protocol';
import {
  EditRecord,
  FocusRecord,
  RECORD_EDITS,
  InitRecords,
  OpenRecordJson,
  PAGE_SIZE,
  RecordsPage,
  RecordsReady,
  RequestPage,
  RevealRecord,
  SelectRecord,
  ShowDetail,
} from './records-protocol';

const host = connect<RecordsState>();
const app = document.getElementById('app')!;

/** Row height in px; must match `.row` in media/records.css. */
const ROW_HEIGHT = 28;
/** Browsers cap element heights (~16–33 M px); past this the scroll position is scaled. */
const MAX_SCROLL_HEIGHT = 4_000_000;
const OVERSCAN = 6;

let header: DatasetHeader | undefined;
const pages = new Map<number, RecordRow[]>();
const requested = new Set<number>();
let selected: number | undefined;
let detailIndex: number | undefined;
/** What the view showed before it was hidden (webviews are rebuilt when shown again). */
let saved = host.getState();

// ---- layout --------------------------------------------------------------------------------

const title = h('h1');
const subtitleLine = subtitle(undefined);
const gotoField = h('vscode-textfield', {
  class: 'goto',
  attrs: { type: 'number', min: 1, placeholder: l10n.t('Go to record #'), 'aria-label': l10n.t('Go to record number') },
}) as HTMLElement & { value: string };
const listHeader = h(
  'div',
  { class: 'row list-header', attrs: { role: 'row' } },
  h('span', { class: 'c-index' }, '#'),
  h('span', { class: 'c-line' }, l10n.t('Line')),
  h('span', { class: 'c-category' }, l10n.t('Category')),
  h('span', { class: 'c-responses', title: l10n.t('Responses') }, l10n.t('Resp.')),
  h('span', { class: 'c-preference' }, l10n.t('Preference')),
  h('span', { class: 'c-snippet' }, l10n.t('First user turn')),
);
const spacer = h('div', { class: 'spacer' });
const rowsLayer = h('div', { class: 'rows' });
const viewport = h('div', { class: 'viewport', attrs: { role: 'listbox', tabindex: 0, 'aria-label': l10n.t('Records') } }, spacer, rowsLayer);
const detail = h('section', { class: 'detail', attrs: { 'aria-label': l10n.t('Record detail') } });
const layout = h(
  'div',
  { class: 'layout' },
  pageHeader(title, [subtitleLine], [gotoField]),
  h('div', { class: 'panes' }, h('section', { class: 'list', attrs: { 'aria-label': l10n.t('Record list') } }, listHeader, viewport), detail),
);

// ---- virtual list ---------------------------------------------------------------------------

interface Geometry {
  /** Records that fit in the viewport. */
  visible: number;
  spacerHeight: number;
  /** Maximum scrollTop. */
  maxScroll: number;
  scaled: boolean;
}

function geometry(): Geometry {
  const size = header?.size ?? 0;
  const viewportHeight = Math.max(ROW_HEIGHT, viewport.clientHeight);
  const full = size * ROW_HEIGHT;
  const spacerHeight = Math.min(full, MAX_SCROLL_HEIGHT);
  return {
    visible: Math.ceil(viewportHeight / ROW_HEIGHT),
    spacerHeight,
    maxScroll: Math.max(0, spacerHeight - viewportHeight),
    scaled: full > MAX_SCROLL_HEIGHT,
  };
}

/** The (fractional) index of the first visible record for the current scroll position. */
function firstVisible(g: Geometry): number {
  const size = header?.size ?? 0;
  if (!g.scaled) return viewport.scrollTop / ROW_HEIGHT;
  return g.maxScroll === 0 ? 0 : (viewport.scrollTop / g.maxScroll) * Math.max(0, size - g.visible);
}

function scrollToIndex(index: number, align: 'center' | 'nearest'): void {
  const g = geometry();
  const size = header?.size ?? 0;
  const first = firstVisible(g);
  if (align === 'nearest' && index >= Math.ceil(first) && index < Math.floor(first) + g.visible - 1) return;
  let target = align === 'center' ? index - g.visible / 2 + 0.5 : index < first ? index : index - g.visible + 1.2;
  target = Math.max(0, Math.min(target, Math.max(0, size - g.visible)));
  viewport.scrollTop = g.scaled ? (size - g.visible > 0 ? (target / (size - g.visible)) * g.maxScroll : 0) : target * ROW_HEIGHT;
  renderRows();
}

const pool: HTMLElement[] = [];

function rowElement(k: number): HTMLElement {
  while (pool.length <= k) {
    const el = h(
      'div',
      { class: 'row', attrs: { role: 'option' } },
      h('span', { class: 'c-index' }),
      h('span', { class: 'c-line' }),
      h('span', { class: 'c-category' }),
      h('span', { class: 'c-responses' }),
      h('span', { class: 'c-preference' }),
      h('span', { class: 'c-snippet' }),
    );
    el.addEventListener('click', () => {
      const index = Number(el.dataset.index);
      if (Number.isInteger(index)) select(index);
    });
    el.addEventListener('dblclick', () => {
      const index = Number(el.dataset.index);
      if (Number.isInteger(index)) host.post(OpenRecordJson({ index }));
    });
    rowsLayer.appendChild(el);
    pool.push(el);
  }
  return pool[k];
}

function fillRow(el: HTMLElement, index: number, row: RecordRow | undefined): void {
  el.dataset.index = String(index);
  el.hidden = false;
  el.classList.toggle('selected', index === selected);
  el.setAttribute('aria-selected', String(index === selected));
  el.classList.toggle('loading', row === undefined);
  el.classList.toggle('error', row?.severity === 'error');
  el.classList.toggle('warning', row?.severity === 'warning');
  const [cIndex, cLine, cCategory, cResponses, cPreference, cSnippet] = Array.from(el.children) as HTMLElement[];
  cIndex.textContent = String(index + 1);
  cLine.textContent = row ? String(row.line) : '';
  cCategory.textContent = row ? (row.category ?? '—') : '';
  cCategory.classList.toggle('muted', row?.category === undefined);
  cResponses.textContent = row ? String(row.responses) : '';
  cPreference.textContent = row ? row.preference : '';
  cSnippet.textContent = row ? row.snippet : 'loading…';
  el.title = row
    ? `${l10n.t('line {0}', row.line)}${row.problems > 0 ? ` · ${row.problems > 1 ? l10n.t('{0} problems', row.problems) : l10n.t('1 problem')}` : ''}`
    : '';
}

function renderRows(): void {
  if (header === undefined) return;
  const g = geometry();
  const size = header.size;
  spacer.style.height = `${g.spacerHeight}px`;
  const exact = firstVisible(g);
  const first = Math.max(0, Math.floor(exact) - OVERSCAN);
  const top = viewport.scrollTop - (exact - first) * ROW_HEIGHT;
  const count = Math.min(size - first, g.visible + 2 * OVERSCAN + 1);
  rowsLayer.style.transform = `translateY(${top}px)`;
  for (let k = 0; k < count; k++) {
    const index = first + k;
    const page = Math.floor(index / PAGE_SIZE);
    const rows = pages.get(page);
    if (rows === undefined) requestPage(page);
    fillRow(rowElement(k), index, rows?.[index - page * PAGE_SIZE]);
  }
  for (let k = Math.max(0, count); k < pool.length; k++) pool[k].hidden = true;
}

function requestPage(page: number): void {
  if (header === undefined || requested.has(page)) return;
  requested.add(page);
  host.post(RequestPage({ generation: header.generation, start: page * PAGE_SIZE, count: PAGE_SIZE }));
}

let frame = 0;
viewport.addEventListener('scroll', () => {
  if (frame !== 0) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    renderRows();
  });
});
new ResizeObserver(() => renderRows()).observe(viewport);

viewport.addEventListener('keydown', (e: KeyboardEvent) => {
  if (header === undefined || header.size === 0) return;
  const g = geometry();
  const current = selected ?? -1;
  const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: g.visible - 1, PageUp: -(g.visible - 1), Home: -Infinity, End: Infinity };
  if (e.key in moves) {
    e.preventDefault();
    select(Math.max(0, Math.min(header.size - 1, current + moves[e.key])), 'nearest');
  } else if (e.key === 'Enter' && selected !== undefined) {
    e.preventDefault();
    host.post(OpenRecordJson({ index: selected }));
  }
});

gotoField.addEventListener('keydown', (e: Event) => {
  if ((e as KeyboardEvent).key !== 'Enter' || header === undefined) return;
  const n = Number(gotoField.value);
  if (Number.isInteger(n) && n >= 1 && n <= header.size) {
    select(n - 1, 'center');
    viewport.focus();
  }
});

function select(index: number, align: 'center' | 'nearest' = 'nearest'): void {
  if (header === undefined) return;
  selected = index;
  host.setState({ uri: header.uri, selected });
  scrollToIndex(index, align);
  renderRows();
  if (detailIndex !== index) {
    detailIndex = index;
    detail.classList.add('pending');
    host.post(SelectRecord({ index }));
  }
}

// ---- detail pane ----------------------------------------------------------------------------

function roleLabel(role: string): string {
  return role === 'user' ? l10n.t('User') : role === 'assistant' ? l10n.t('Assistant') : l10n.t('System');
}

function rankBadge(r: ResponseDetail, responses: ResponseDetail[]): HTMLElement | undefined {
  if (r.rank === undefined) return undefined;
  const ranks = responses.map((x) => x.rank ?? Infinity);
  const best = Math.min(...ranks);
  const worst = Math.max(...ranks.filter(Number.isFinite));
  const tied = ranks.filter((x) => x === r.rank).length > 1;
  const tone = r.rank === best && !tied ? 'best' : r.rank === worst && !tied ? 'worst' : 'mid';
  return h('span', { class: `rank ${tone}`, title: tied ? l10n.t('tied') : '' }, tied ? l10n.t('rank {0} (tie)', r.rank) : l10n.t('rank {0}', r.rank));
}

function renderResponse(r: ResponseDetail, all: ResponseDetail[]): HTMLElement {
  const ratings =
    r.ratings.length > 0
      ? h(
          'table',
          { class: 'ratings' },
          h('thead', {}, h('tr', {}, h('th', {}, l10n.t('Aspect')), h('th', { class: 'num' }, l10n.t('Value')), h('th', {}, l10n.t('Source')))),
          h('tbody', {}, ...r.ratings.map((x) => h('tr', {}, h('td', {}, x.aspect), h('td', { class: 'num' }, String(x.value)), h('td', {}, x.source)))),
        )
      : undefined;
  return h(
    'article',
    { class: 'response' },
    h(
      'div',
      { class: 'response-head' },
      h('span', { class: 'response-title' }, l10n.t('Response {0}', r.index + 1)),
      rankBadge(r, all),
      r.model !== undefined ? h('span', { class: 'model' }, r.model) : undefined,
    ),
    ratings,
    h('div', { class: 'text' }, r.text),
  );
}

/** Curation edits' button labels: the host runs the matching command on this record (docs/curation.md). */
function editLabels(): Record<RecordEditAction, string> {
  return {
    flip: l10n.t('Flip'),
    tie: l10n.t('Tie'),
    rerank: l10n.t('Re-rank…'),
    drop: l10n.t('Drop'),
    tag: l10n.t('Tag…'),
    note: l10n.t('Note…'),
    undo: l10n.t('Undo'),
  };
}

function renderDetail(d: RecordDetail): void {
  const problems = d.problems.map((p) =>
    h('div', { class: `problem ${p.severity}` }, h('span', { class: 'severity' }, p.severity), ` line ${p.line}: `, p.reason),
  );
  const actions = h(
    'div',
    { class: 'actions' },
    h('vscode-button', { attrs: { secondary: true }, on: { click: () => host.post(RevealRecord({ index: d.index })) } }, l10n.t('Go to Line')),
    h('vscode-button', { attrs: { secondary: true }, on: { click: () => host.post(OpenRecordJson({ index: d.index })) } }, l10n.t('Open as JSON')),
    ...RECORD_EDITS.map((action) =>
      h(
        'vscode-button',
        { attrs: { secondary: true, 'data-edit': action }, on: { click: () => host.post(EditRecord({ index: d.index, action })) } },
        editLabels()[action],
      ),
    ),
  );
  const head = h(
    'div',
    { class: 'detail-head' },
    h(
      'div',
      {},
      h('h2', {}, l10n.t('Record {0}', formatCount(d.index + 1))),
      h(
        'div',
        { class: 'subtitle' },
        l10n.t('line {0}', d.lines.length > 1 ? d.lines.join(', ') : d.line),
        d.category !== undefined ? ' · ' : '',
        d.category !== undefined ? h('vscode-badge', {}, d.category) : undefined,
      ),
    ),
    actions,
  );
  if (d.raw !== undefined) {
    replaceChildren(detail, head, ...problems, h('h3', {}, l10n.t('Raw text')), h('pre', { class: 'raw' }, d.raw));
    return;
  }
  replaceChildren(
    detail,
    head,
    ...problems,
    h('div', { class: 'preference' }, h('span', { class: 'muted' }, l10n.t('Human preference: ')), d.preference),
    d.verdicts.length > 0 ? h('ul', { class: 'verdicts' }, ...d.verdicts.map((v) => h('li', {}, v))) : undefined,
    h('h3', {}, l10n.t('Conversation')),
    ...d.context.map((t) => h('div', { class: `turn ${t.role}` }, h('div', { class: 'role' }, roleLabel(t.role)), h('div', { class: 'text' }, t.content))),
    h('h3', {}, l10n.t('Responses ({0})', d.responses.length)),
    ...d.responses.map((r) => renderResponse(r, d.responses)),
    d.metadata !== undefined
      ? h('details', { class: 'metadata' }, h('summary', {}, l10n.t('Metadata')), h('pre', {}, JSON.stringify(d.metadata, null, 2)))
      : undefined,
  );
  detail.scrollTop = 0;
}

function emptyDetail(): void {
  replaceChildren(detail, h('div', { class: 'empty' }, l10n.t('Select a record to see it in full. ↑/↓ move, Enter opens it as JSON.')));
}

// ---- messages -------------------------------------------------------------------------------

function init(next: DatasetHeader | undefined, message: string | undefined, focus: number | undefined): void {
  const sameDataset = header !== undefined && next !== undefined && header.uri === next.uri;
  header = next;
  pages.clear();
  requested.clear();
  if (next === undefined) {
    replaceChildren(app, h('div', { class: 'empty' }, message ?? l10n.t('Nothing to show.')));
    return;
  }
  if (!app.contains(layout)) replaceChildren(app, layout);
  title.textContent = next.name;
  title.title = next.uri;
  subtitleLine.textContent = `${l10n.t('{0} records', formatCount(next.size))}${next.malformed > 0 ? ` · ${l10n.t('{0} malformed', formatCount(next.malformed))}` : ''} · ${next.origin === 'file' ? l10n.t('indexed from disk') : l10n.t('indexed from the editor')}`;
  app.setAttribute('aria-busy', 'false');
  if (!sameDataset) {
    selected = undefined;
    detailIndex = undefined;
    viewport.scrollTop = 0;
    emptyDetail();
  } else if (selected !== undefined && selected >= next.size) selected = undefined;
  const restore = focus ?? selected ?? (saved?.uri === next.uri ? saved.selected : undefined);
  saved = undefined;
  detailIndex = undefined;
  if (restore !== undefined && restore < next.size) select(restore, 'center');
  else renderRows();
  host.setState({ uri: next.uri, selected });
}

host.onMessage((msg) => {
  switch (true) {
    case InitRecords.is(msg):
      init(msg.params.header, msg.params.message, msg.params.focus);
      break;
    case RecordsPage.is(msg): {
      if (header === undefined || msg.params.generation !== header.generation) break;
      pages.set(Math.floor(msg.params.start / PAGE_SIZE), msg.params.rows);
      renderRows();
      break;
    }
    case ShowDetail.is(msg):
      if (msg.params.detail.index !== detailIndex) break;
      detail.classList.remove('pending');
      renderDetail(msg.params.detail);
      break;
    case FocusRecord.is(msg):
      select(msg.params.index, 'center');
      break;
  }
});

host.post(RecordsReady({}));
