// Evaluation report webview: the paper's Table 3 (methods × categories, accuracy on human pairs) for
// every run, one table per test set, and Figure 4 (accuracy against step) of the selected run, drawn by
// lib/chart.ts. Run, method, category, phase and expert names are user data: text nodes only.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { ReportCell, ReportGroup } from '../src/core/training/report';
import type { CurvesData, ReportData, ReportState } from './evaluation-report-protocol';
import { OpenTrainingChart, RefreshReport, ReportReady, SelectRun, UpdateCurves, UpdateReport } from './evaluation-report-protocol';
import { pct } from '../src/core/training/format';
import { accuracyChart, chartLegend, seriesOf } from './lib/chart';
import { engineDifferenceNote } from '../src/core/scoring/engines';
import { h, pageHeader, renderMessage, replaceChildren, subtitle } from './lib/dom';
import { l10n } from './lib/l10n';
import type { Child } from './lib/dom';
import { formatCount } from './lib/format';
import { connect } from './lib/vscode-api';

const host = connect<ReportState>();
const app = document.getElementById('app')!;

/** What the user chose, kept across updates (a run finishing re-reads everything). */
const view = { phase: 'all', showVal: true, showTrain: false, selected: host.getState()?.selected };
let data: ReportData | undefined;
let curves: CurvesData | undefined;
let curvesMessage: string | undefined;
/** The curves section, re-rendered alone when another run is picked. */
const curvesSection = h('section', { class: 'curves', attrs: { 'aria-label': l10n.t('Training curves') } });

function select(run: string): void {
  view.selected = run;
  host.setState({ selected: run });
  host.post(SelectRun({ run }));
  app.querySelectorAll<HTMLElement>('tr[data-run]').forEach((tr) => tr.classList.toggle('selected', tr.dataset.run === run));
}

function cell(c: ReportCell | null, column: string, run: string): HTMLElement {
  if (c === null) return h('td', { class: 'n muted', title: l10n.t('{0} has no {1} pairs', run, column) }, '–');
  const title = `${column}: ${c.accuracy === null ? 'no pairs' : `${pct(c.accuracy)} of ${formatCount(c.pairs)} human pairs ordered as people did`}${c.best ? ' (best of the column)' : ''}`;
  return h('td', { class: `n${c.best ? ' best' : ''}`, title }, pct(c.accuracy), h('span', { class: 'pairs' }, ` n=${formatCount(c.pairs)}`));
}

function groupTable(g: ReportGroup): HTMLElement {
  return h(
    'section',
    { class: 'group' },
    h('h2', { title: g.testSet.detail }, g.testSet.label),
    ...g.warnings.map((w) => h('p', { class: 'warning' }, `⚠ ${w}`)),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'report' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, l10n.t('run')),
            h('th', {}, l10n.t('method')),
            ...g.categories.map((c) => h('th', { class: 'n', title: c }, c)),
            h('th', { class: 'n overall' }, l10n.t('Overall')),
          ),
        ),
        h(
          'tbody',
          {},
          ...g.rows.map((r) => {
            const tr = h(
              'tr',
              {
                class: r.dir === view.selected ? 'selected' : undefined,
                attrs: { 'data-run': r.dir, tabindex: 0 },
                title: `${r.dir}\n${l10n.t('click: show its training curves below')}`,
              },
              h('td', { class: 'run' }, r.run),
              h('td', { class: 'method' }, r.method),
              ...r.cells.map((c, i) => cell(c, g.categories[i], r.run)),
              cell(r.overall, 'overall', r.run),
            );
            tr.addEventListener('click', () => select(r.dir));
            tr.addEventListener('keydown', (e: KeyboardEvent) => {
              if (e.key === 'Enter' || e.key === ' ') {
                e.preventDefault();
                select(r.dir);
              }
            });
            return tr;
          }),
        ),
      ),
    ),
  );
}

function skippedList(d: ReportData): Child {
  if (d.report.skipped.length === 0) return undefined;
  return h(
    'section',
    { class: 'skipped' },
    h('h3', {}, l10n.t('Not in the tables ({0})', d.report.skipped.length)),
    h('ul', {}, ...d.report.skipped.map((s) => h('li', { title: s.dir }, h('span', { class: 'run' }, s.run), h('span', { class: 'muted' }, ` — ${s.reason}`)))),
  );
}

function checkbox(label: string, checked: boolean, set: (v: boolean) => void): HTMLElement {
  const box = h('vscode-checkbox', { attrs: { checked } }, label);
  box.addEventListener('change', () => {
    set((box as HTMLElement & { checked: boolean }).checked);
    renderCurves();
  });
  return box;
}

function runSelect(d: ReportData): HTMLElement {
  const el = h(
    'vscode-single-select',
    { attrs: { 'aria-label': l10n.t('Run') } },
    ...d.runs.map((r) => h('vscode-option', { attrs: { value: r.dir, selected: r.dir === view.selected, description: r.method } }, r.name)),
  );
  el.addEventListener('change', () => {
    const v = (el as HTMLElement & { value: string }).value;
    if (v) select(v);
  });
  return el;
}

function phaseSelect(phases: string[]): HTMLElement {
  const el = h(
    'vscode-single-select',
    { attrs: { 'aria-label': l10n.t('Phase') } },
    h('vscode-option', { attrs: { value: 'all', selected: view.phase === 'all' } }, l10n.t('All phases')),
    ...phases.map((p) => h('vscode-option', { attrs: { value: p, selected: view.phase === p } }, p)),
  );
  el.addEventListener('change', () => {
    view.phase = (el as HTMLElement & { value: string }).value || 'all';
    renderCurves();
  });
  return el;
}

function renderCurves(): void {
  if (data === undefined) return;
  const c = curves?.run === view.selected ? curves : undefined;
  const all = c ? seriesOf(c.points) : [];
  const phases = [...new Set(all.map((s) => s.phase))];
  if (view.phase !== 'all' && !phases.includes(view.phase)) view.phase = 'all';
  const shown = view.phase === 'all' ? all : all.filter((s) => s.phase === view.phase);
  replaceChildren(
    curvesSection,
    h('h3', {}, l10n.t('Training curves (validation accuracy by phase and expert)')),
    h(
      'div',
      { class: 'toolbar' },
      runSelect(data),
      phaseSelect(phases),
      checkbox(l10n.t('validation'), view.showVal, (v) => (view.showVal = v)),
      checkbox(l10n.t('training'), view.showTrain, (v) => (view.showTrain = v)),
      h('span', { class: 'spacer' }),
      view.selected
        ? h(
            'vscode-button',
            { attrs: { secondary: true }, on: { click: () => host.post(OpenTrainingChart({ run: view.selected! })) } },
            l10n.t('Open Training Chart'),
          )
        : undefined,
    ),
    c === undefined
      ? h('div', { class: 'empty' }, h('p', {}, curvesMessage ?? l10n.t('Loading…')))
      : shown.length === 0
        ? h('div', { class: 'empty' }, h('p', {}, l10n.t('{0} has no metrics yet.', c.name)))
        : accuracyChart(shown, view),
    chartLegend(shown),
  );
}

function render(d: ReportData): void {
  const evaluated = new Set(d.report.groups.flatMap((g) => g.rows.map((r) => r.dir))).size;
  replaceChildren(
    app,
    pageHeader(
      h('h1', {}, l10n.t('Evaluation Report')),
      [
        subtitle(
          undefined,
          `${l10n.t('{0} runs · {1} evaluated', d.runs.length, evaluated)} · ${d.report.groups.length === 1 ? l10n.t('1 test set') : l10n.t('{0} test sets', d.report.groups.length)} · ${l10n.t('accuracy on held-out human pairs (paper Table 3); best of each column in bold')}`,
        ),
        subtitle(
          engineDifferenceNote('training'),
          l10n.t(
            'Engine: training engine (TF.js) on the run’s checkpoints, pairs compared on σ rewards; every non-tied human pair of every record, equal rewards count as disagreement.',
          ),
        ),
      ],
      [h('vscode-button', { attrs: { secondary: true }, on: { click: () => host.post(RefreshReport({})) } }, l10n.t('Refresh'))],
    ),
    d.report.groups.length === 0
      ? h('div', { class: 'empty' }, h('p', {}, l10n.t('No run has an evaluation yet: eval.json is written when a run finishes with a held-out part.')))
      : undefined,
    ...d.report.groups.map(groupTable),
    skippedList(d),
    curvesSection,
  );
  renderCurves();
  app.setAttribute('aria-busy', 'false');
}

host.onMessage((msg) => {
  switch (true) {
    case UpdateReport.is(msg): {
      const { data: next, message } = msg.params;
      if (next === undefined || !Array.isArray(next.runs) || !Array.isArray(next.report?.groups)) {
        data = undefined;
        renderMessage(app, message ?? l10n.t('Nothing to show.'));
        return;
      }
      data = next;
      if (next.selected !== undefined && next.selected !== view.selected) {
        view.selected = next.selected;
        host.setState({ selected: next.selected });
      }
      render(next);
      break;
    }
    case UpdateCurves.is(msg): {
      const { data: next, message } = msg.params;
      curves = next !== undefined && Array.isArray(next.points) ? next : undefined;
      curvesMessage = message;
      renderCurves();
      break;
    }
  }
});
host.post(ReportReady({ selected: view.selected }));
