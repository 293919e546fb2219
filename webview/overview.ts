// Dataset Overview webview: renders an IndexReport (the Table-2 statistics) and the problem list.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-table/index.js';
import '@vscode-elements/elements/dist/vscode-table-body/index.js';
import '@vscode-elements/elements/dist/vscode-table-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-header/index.js';
import '@vscode-elements/elements/dist/vscode-table-header-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-row/index.js';
import type { IndexReport } from '../src/core/dataset/dataset';
import { button, card, h, pageHeader, replaceChildren, showDatasetUpdate, subtitle } from './lib/dom';
import type { Child } from './lib/dom';
import { formatBytes, formatCount, formatShare } from './lib/format';
import { l10n } from './lib/l10n';
import { connect } from './lib/vscode-api';
import type { OverviewData } from './overview-protocol';
import type { DatasetState } from './lib/state';
import { BrowseRecords, IndexingState, OverviewReady, ReindexDataset, RevealLine, UpdateOverview } from './overview-protocol';

const host = connect<DatasetState>();
const app = document.getElementById('app')!;
const progress = h('vscode-progress-bar', { class: 'progress', attrs: { indeterminate: true, 'aria-label': l10n.t('Indexing') } });
progress.hidden = true;
document.body.prepend(progress);

/** Problems rendered at first; the rest behind a "show all" button (the index keeps at most a few thousand). */
const PROBLEMS_SHOWN = 200;

function lineLink(line: number): HTMLElement {
  return h(
    'button',
    {
      class: 'link',
      title: l10n.t('Go to line {0}', line),
      on: {
        click: (e) => {
          e.stopPropagation();
          host.post(RevealLine({ line }));
        },
      },
    },
    String(line),
  );
}

/** A vscode-table from header labels and rows of cells; `numeric` columns are right-aligned. */
function table(headers: string[], rows: Child[][], options: { numeric?: number[]; columns?: string[]; className?: string } = {}): HTMLElement {
  const numeric = new Set(options.numeric ?? []);
  const cellClass = (i: number) => (numeric.has(i) ? 'num' : undefined);
  return h(
    'vscode-table',
    {
      class: options.className ?? 'table',
      attrs: { zebra: true, 'bordered-rows': true, columns: options.columns ? JSON.stringify(options.columns) : undefined },
    },
    h('vscode-table-header', { attrs: { slot: 'header' } }, ...headers.map((label, i) => h('vscode-table-header-cell', { class: cellClass(i) }, label))),
    h(
      'vscode-table-body',
      { attrs: { slot: 'body' } },
      ...rows.map((cells) => h('vscode-table-row', {}, ...cells.map((c, i) => h('vscode-table-cell', { class: cellClass(i) }, c)))),
    ),
  );
}

function section(heading: string, description: string, open: boolean, ...content: Child[]): HTMLElement {
  return h('vscode-collapsible', { class: 'section', attrs: { heading, description, open } }, h('div', { class: 'section-body' }, ...content));
}

function shareBar(part: number, whole: number): HTMLElement {
  const bar = h('span', { class: 'bar-fill' });
  bar.style.width = whole > 0 ? `${Math.max(1, Math.round((part / whole) * 100))}%` : '0';
  return h('span', { class: 'bar' }, bar);
}

function renderCards(r: IndexReport): HTMLElement {
  const rpr = r.responsesPerRecord;
  return h(
    'section',
    { class: 'cards', attrs: { 'aria-label': l10n.t('Summary') } },
    card(l10n.t('Records'), formatCount(r.records), l10n.t('{0} entries in the file', formatCount(r.entries))),
    card(
      l10n.t('Malformed'),
      formatCount(r.malformed),
      r.malformed > 0 ? formatShare(r.malformed, r.entries) : l10n.t('none'),
      r.malformed > 0 ? 'error' : 'ok',
    ),
    card(
      l10n.t('Problems'),
      formatCount(r.problemCount),
      r.problemCount > r.problems.length ? l10n.t('first {0} listed', formatCount(r.problems.length)) : l10n.t('errors and warnings'),
      r.problemCount > 0 ? 'warning' : 'ok',
    ),
    card(l10n.t('Responses / record'), rpr.mean.toFixed(2), rpr.min === rpr.max ? l10n.t('always {0}', rpr.min) : `${rpr.min}–${rpr.max}`),
    card(l10n.t('Avg. turns'), r.avgTurns.toFixed(2), l10n.t('user turns per conversation')),
    card(l10n.t('Preference pairs'), formatCount(r.preferencePairs), l10n.t('{0} tied', formatCount(r.tiedPairs))),
    card(l10n.t('Unlabelled'), formatCount(r.unlabelled), formatShare(r.unlabelled, r.records), r.unlabelled > 0 ? 'warning' : undefined),
    card(
      l10n.t('Duplicate prompts'),
      formatCount(r.duplicatePrompts),
      formatShare(r.duplicatePrompts, r.records),
      r.duplicatePrompts > 0 ? 'warning' : undefined,
    ),
    card(
      l10n.t('Duplicate records'),
      formatCount(r.duplicateRecords),
      formatShare(r.duplicateRecords, r.records),
      r.duplicateRecords > 0 ? 'warning' : undefined,
    ),
  );
}

function renderCategories(r: IndexReport): HTMLElement {
  const entries = Object.entries(r.categories);
  const rows = entries.map(([name, c]) => [
    name === '(none)' ? h('span', { class: 'muted' }, l10n.t('no category')) : name,
    formatCount(c.count),
    h('span', { class: 'share' }, shareBar(c.count, r.records), formatShare(c.count, r.records)),
    c.avgTurns.toFixed(2),
  ]);
  rows.push([h('strong', {}, l10n.t('total')), h('strong', {}, formatCount(r.records)), '', h('strong', {}, r.avgTurns.toFixed(2))]);
  return section(
    l10n.t('Categories'),
    `${entries.length}`,
    true,
    table([l10n.t('Category'), l10n.t('Records'), l10n.t('Share'), l10n.t('Avg. turns')], rows, { numeric: [1, 3], columns: ['40%', '15%', '30%', '15%'] }),
  );
}

function renderRatings(r: IndexReport): HTMLElement | undefined {
  const entries = Object.entries(r.ratingSources);
  if (entries.length === 0) return undefined;
  const total = entries.reduce((n, [, c]) => n + c, 0);
  return section(
    l10n.t('Rating sources'),
    `${entries.length}`,
    true,
    table(
      [l10n.t('Source'), l10n.t('Ratings'), l10n.t('Share')],
      entries.map(([s, n]) => [s, formatCount(n), formatShare(n, total)]),
      { numeric: [1, 2] },
    ),
  );
}

function renderPii(r: IndexReport): HTMLElement {
  const kinds: [keyof IndexReport['pii'], string][] = [
    ['email', l10n.t('e-mail addresses')],
    ['phone', l10n.t('phone numbers')],
    ['idCard', l10n.t('ID card numbers')],
  ];
  const flagged = kinds.reduce((n, [k]) => n + r.pii[k], 0);
  const badges = h(
    'div',
    { class: 'pii-badges' },
    ...kinds.map(([k, label]) =>
      h(
        'span',
        { class: `pii-flag${r.pii[k] > 0 ? ' flagged' : ''}` },
        h('vscode-badge', { attrs: { variant: 'counter' } }, formatCount(r.pii[k])),
        ` ${label}`,
      ),
    ),
  );
  const lines =
    r.piiLines.length > 0
      ? h(
          'div',
          { class: 'pii-lines' },
          h('span', { class: 'muted' }, l10n.t('Records to check: ')),
          ...r.piiLines.slice(0, 50).flatMap((p) => [lineLink(p.line), ' ']),
        )
      : h('p', { class: 'muted' }, l10n.t('No personal data patterns found.'));
  return section(l10n.t('Personal data'), flagged > 0 ? l10n.t('{0} flags', formatCount(flagged)) : l10n.t('none found'), flagged > 0, badges, lines);
}

function renderProblems(r: IndexReport): HTMLElement {
  if (r.problems.length === 0)
    return section(l10n.t('Problems'), l10n.t('none'), false, h('p', { class: 'muted' }, l10n.t('Every record was read without problems.')));
  const body = h('div');
  const render = (count: number) => {
    const shown = r.problems.slice(0, count);
    const rows = shown.map((p) => [lineLink(p.line), h('span', { class: `severity ${p.severity}` }, p.severity), h('span', { class: 'reason' }, p.reason)]);
    const more = r.problems.length - shown.length;
    replaceChildren(
      body,
      table([l10n.t('Line'), l10n.t('Severity'), l10n.t('Reason')], rows, { columns: ['10%', '12%', '78%'], className: 'table problems' }),
      more > 0
        ? h(
            'div',
            { class: 'more' },
            button(l10n.t('Show all {0}', formatCount(r.problems.length)), () => render(r.problems.length), true),
          )
        : undefined,
      r.problemCount > r.problems.length
        ? h('p', { class: 'muted' }, l10n.t('{0} more problems were counted but not kept.', formatCount(r.problemCount - r.problems.length)))
        : undefined,
    );
  };
  render(PROBLEMS_SHOWN);
  const errors = r.problems.filter((p) => p.severity === 'error').length;
  return section(l10n.t('Problems'), l10n.t('{0} errors, {1} warnings', formatCount(errors), formatCount(r.problems.length - errors)), true, body);
}

/** Edits by kind (docs/curation.md): what training and exports will read differently from the file. */
function renderEdits(edits: Record<string, number> | undefined): HTMLElement | undefined {
  if (edits === undefined) return undefined;
  const total = Object.values(edits).reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  return h(
    'section',
    { class: 'cards edits', attrs: { 'aria-label': 'Edits' } },
    card('Edits', formatCount(total), 'applied in training and exports'),
    ...Object.entries(edits)
      .filter(([, n]) => n > 0)
      .map(([kind, n]) => card(kind, formatCount(n), 'edits in effect')),
  );
}

function render(data: OverviewData): void {
  const r = data.report;
  const summary = [
    r.adapter,
    r.format === 'jsonl' ? 'JSON Lines' : l10n.t('JSON array'),
    formatBytes(r.bytes),
    l10n.t('indexed in {0} ms', formatCount(data.indexMs)),
    data.origin === 'file' ? l10n.t('from disk') : l10n.t('from the editor'),
  ].join(' · ');
  replaceChildren(
    app,
    pageHeader(
      h('h1', { title: r.file }, data.name),
      [subtitle(undefined, summary)],
      [button(l10n.t('Browse Records'), () => host.post(BrowseRecords({}))), button(l10n.t('Re-index'), () => host.post(ReindexDataset({})), true)],
    ),
    renderCards(r),
    renderEdits(data.edits),
    renderCategories(r),
    renderRatings(r),
    renderPii(r),
    renderProblems(r),
  );
  app.setAttribute('aria-busy', 'false');
}

host.onMessage((msg) => {
  switch (true) {
    case UpdateOverview.is(msg):
      showDatasetUpdate(msg.params, { app, progress, keep: (state) => host.setState(state), render, nothing: l10n.t('Nothing to show.') });
      break;
    case IndexingState.is(msg): {
      progress.hidden = !msg.params.busy;
      if (msg.params.fraction !== undefined) {
        progress.removeAttribute('indeterminate');
        progress.setAttribute('value', String(Math.round(msg.params.fraction * 100)));
      } else progress.setAttribute('indeterminate', '');
      break;
    }
  }
});

host.post(OverviewReady({}));
