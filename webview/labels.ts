// Label Report webview: renders a LabelReport (per source × category × capability point) and offers
// the points.jsonl export. Every store value becomes text (dom.ts), never HTML.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-table/index.js';
import '@vscode-elements/elements/dist/vscode-table-body/index.js';
import '@vscode-elements/elements/dist/vscode-table-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-header/index.js';
import '@vscode-elements/elements/dist/vscode-table-header-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-row/index.js';
import type { Agreement, LabelReport, ReportRow } from '../src/core/labelling/report';
import { button, card, h, pageHeader, replaceChildren, showDatasetUpdate, subtitle } from './lib/dom';
import type { Child } from './lib/dom';
import { formatCount, formatShare } from './lib/format';
import { l10n } from './lib/l10n';
import { connect } from './lib/vscode-api';
import type { LabelsData } from './labels-protocol';
import type { DatasetState } from './lib/state';
import { ExportPoints, LabelDataset, LabelsBusy, LabelsReady, RefreshLabels, UpdateLabels } from './labels-protocol';
import { pct } from '../src/core/training/format';

const host = connect<DatasetState>();
const app = document.getElementById('app')!;
const progress = h('vscode-progress-bar', { class: 'progress', attrs: { indeterminate: true, 'aria-label': l10n.t('Reading the label store') } });
progress.hidden = true;
document.body.prepend(progress);

/** `12 (4.0%)`, muted when zero. */
function countWithShare(n: number, of: number, tone?: 'error' | 'warning'): HTMLElement {
  return h(
    'span',
    { class: n > 0 && tone ? tone : n === 0 ? 'muted' : undefined },
    formatCount(n),
    n > 0 ? h('span', { class: 'share-of' }, ` ${formatShare(n, of)}`) : undefined,
  );
}

function agreement(a: Agreement | undefined): Child {
  if (a === undefined || a.n === 0 || a.rate === null) return h('span', { class: 'muted' }, '–');
  return h(
    'span',
    { title: l10n.t('{0} of {1} kept labels agree with people', a.agree, a.n) },
    `${(a.rate * 100).toFixed(0)}%`,
    h('span', { class: 'share-of' }, ` n=${formatCount(a.n)}`),
  );
}

function firstPosition(share: number | null): Child {
  if (share === null) return h('span', { class: 'muted' }, '–');
  // Far from 50%: the judge prefers a position (inconsistent pairs follow).
  const biased = Math.abs(share - 0.5) >= 0.15;
  return h(
    'span',
    { class: biased ? 'warning' : undefined, title: l10n.t('share of single verdicts naming response 1 (50% = no position bias)') },
    `${(share * 100).toFixed(0)}%`,
  );
}

/** Column label and what it means (the header's tooltip). */
const HEADERS: [string, string][] = [
  [l10n.t('Source'), l10n.t('judge, or ratings:<source> (labels from ratings)')],
  [l10n.t('Category'), l10n.t('the category whose capability points were asked')],
  [l10n.t('Point'), l10n.t('capability point id')],
  [l10n.t('Asked'), l10n.t('pairs with both orders answered')],
  [l10n.t('Consistent'), l10n.t('both orders name the same response')],
  [l10n.t('Inconsistent'), l10n.t('the orders disagree: position bias')],
  [l10n.t('Invalid'), l10n.t('a reply without a verdict')],
  [l10n.t('Ties'), l10n.t('equal ratings (labels from ratings)')],
  [l10n.t('Kept'), l10n.t('labels for training: consistent, not tied')],
  [l10n.t('Pending'), l10n.t('one order answered only (an interrupted run)')],
  [l10n.t('1st pos.'), l10n.t('share of single verdicts naming response 1 (50% = no position bias)')],
  [l10n.t('Hum. aspect'), l10n.t('kept labels agreeing with human ratings of the same aspect')],
  [l10n.t('Hum. overall'), l10n.t('kept labels agreeing with the human overall preference')],
];
const NUMERIC = new Set([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
const COLUMNS = ['7%', '9%', '13%', '5%', '9%', '10%', '7%', '4%', '5%', '7%', '7%', '8%', '9%'];

function rowCells(
  r: Pick<ReportRow, 'asked' | 'consistent' | 'inconsistent' | 'invalid' | 'ties' | 'kept' | 'pending' | 'humanAspect' | 'humanOverall'>,
  label: Child[],
  first: Child,
): Child[] {
  return [
    ...label,
    formatCount(r.asked),
    countWithShare(r.consistent, r.asked),
    countWithShare(r.inconsistent, r.asked, 'warning'),
    countWithShare(r.invalid, r.asked, 'error'),
    r.ties > 0 ? formatCount(r.ties) : h('span', { class: 'muted' }, '0'),
    h('strong', {}, formatCount(r.kept)),
    r.pending > 0 ? formatCount(r.pending) : h('span', { class: 'muted' }, '0'),
    first,
    agreement(r.humanAspect),
    agreement(r.humanOverall),
  ];
}

function renderTable(report: LabelReport): HTMLElement {
  const rows = report.rows.map((r) =>
    rowCells(
      r,
      [
        h('span', { class: 'source', title: r.source }, r.source),
        h('span', { title: r.category }, r.category),
        h('span', { class: 'point', title: r.point }, r.point),
      ],
      firstPosition(r.firstPosition),
    ),
  );
  rows.push(rowCells(report.totals, [h('strong', {}, l10n.t('all')), '', ''], ''));
  const cellClass = (i: number) => (NUMERIC.has(i) ? 'num' : undefined);
  return h(
    'vscode-table',
    { class: 'table report', attrs: { zebra: true, 'bordered-rows': true, resizable: true, columns: JSON.stringify(COLUMNS) } },
    h(
      'vscode-table-header',
      { attrs: { slot: 'header' } },
      ...HEADERS.map(([label, title], i) => h('vscode-table-header-cell', { class: cellClass(i), title }, label)),
    ),
    h(
      'vscode-table-body',
      { attrs: { slot: 'body' } },
      ...rows.map((cells, r) =>
        h(
          'vscode-table-row',
          { class: r === rows.length - 1 ? 'totals' : undefined },
          ...cells.map((c, i) => h('vscode-table-cell', { class: cellClass(i) }, c)),
        ),
      ),
    ),
  );
}

function renderCards(report: LabelReport): HTMLElement {
  const t = report.totals;
  return h(
    'section',
    { class: 'cards', attrs: { 'aria-label': l10n.t('Summary') } },
    card(l10n.t('Calls stored'), formatCount(report.calls), l10n.t('≈{0} tokens', formatCount(report.promptTokens + report.completionTokens))),
    card(
      l10n.t('Pairs asked'),
      formatCount(t.asked),
      t.pending > 0 ? l10n.t('{0} pending (one order only)', formatCount(t.pending)) : l10n.t('both orders answered'),
    ),
    card(l10n.t('Kept'), formatCount(t.kept), formatShare(t.kept, t.asked), 'ok'),
    card(
      l10n.t('Inconsistent'),
      formatCount(t.inconsistent),
      l10n.t('position bias · {0}', formatShare(t.inconsistent, t.asked)),
      t.inconsistent > 0 ? 'warning' : undefined,
    ),
    card(l10n.t('Invalid'), formatCount(t.invalid), l10n.t('no verdict · {0}', formatShare(t.invalid, t.asked)), t.invalid > 0 ? 'error' : undefined),
    card(
      l10n.t('Human agreement'),
      pct(t.humanOverall?.rate),
      t.humanOverall?.n ? l10n.t('overall preference, {0} pairs', formatCount(t.humanOverall.n)) : l10n.t('no human preference to compare'),
    ),
  );
}

function renderClassified(report: LabelReport): HTMLElement | undefined {
  const entries = Object.entries(report.classified);
  if (entries.length === 0) return undefined;
  return h(
    'vscode-collapsible',
    { class: 'section', attrs: { heading: l10n.t('Categories by the judge'), description: `${entries.length}`, open: true } },
    h(
      'div',
      { class: 'section-body' },
      ...entries.map(([name, n]) =>
        h('div', {}, name === 'null' ? h('span', { class: 'muted' }, l10n.t('none named')) : name, ` — ${l10n.t('{0} records', formatCount(n))}`),
      ),
    ),
  );
}

function render(data: LabelsData): void {
  const r = data.report;
  const details = [
    r.setups.length > 0 ? l10n.t('setups: {0}', r.setups.join(', ')) : undefined,
    r.ignoredLines > 0 ? l10n.t('{0} torn lines ignored', formatCount(r.ignoredLines)) : undefined,
  ]
    .filter((s): s is string => s !== undefined)
    .join(' · ');
  const header = pageHeader(
    h('h1', { title: data.uri }, l10n.t('Labels: {0}', data.name)),
    [subtitle(data.store, data.store), details ? subtitle(undefined, details) : undefined],
    [button(l10n.t('Export points.jsonl'), () => host.post(ExportPoints({}))), button(l10n.t('Refresh'), () => host.post(RefreshLabels({})), true)],
  );
  if (r.rows.length === 0) {
    replaceChildren(
      app,
      header,
      h(
        'div',
        { class: 'empty' },
        h('p', {}, data.storeExists ? l10n.t('The label store holds no labels yet.') : l10n.t('Nothing labelled yet.')),
        button(l10n.t('Label Capability Points…'), () => host.post(LabelDataset({}))),
      ),
    );
  } else {
    replaceChildren(app, header, renderCards(r), h('h3', {}, l10n.t('By source, category and capability point')), renderTable(r), renderClassified(r));
  }
  app.setAttribute('aria-busy', 'false');
}

host.onMessage((msg) => {
  switch (true) {
    case UpdateLabels.is(msg):
      showDatasetUpdate(msg.params, { app, progress, keep: (state) => host.setState(state), render, nothing: l10n.t('Nothing to show.') });
      break;
    case LabelsBusy.is(msg):
      progress.hidden = !msg.params.busy;
      break;
  }
});

host.post(LabelsReady({}));
