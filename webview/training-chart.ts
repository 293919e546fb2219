// Training chart webview (paper Figure 4): accuracy against step, one line per phase or expert, drawn
// by lib/chart.ts. Phase and expert names are user data: they only ever become Text nodes or attribute
// values set through the DOM. Colours are classes in media/training-chart.css over the theme's
// --vscode-charts-* variables (the CSP allows no inline styles).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { EvalResult } from '../src/core/training/types';
import { pct } from '../src/core/training/format';
import { accuracyChart, chartLegend, seriesOf } from './lib/chart';
import { h, pageHeader, renderMessage, replaceChildren, subtitle } from './lib/dom';
import { l10n } from './lib/l10n';
import type { IpcMessageType } from './lib/ipc';
import { connect } from './lib/vscode-api';
import type { ChartData, ChartState } from './training-chart-protocol';
import { ChartReady, OpenModelCard, RefreshChart, ResumeRun, RevealRun, UpdateChart } from './training-chart-protocol';

const host = connect<ChartState>();
const app = document.getElementById('app')!;

/** What the user chose, kept across updates (a live run re-renders every evaluation). */
const view = { phase: 'all', showVal: true, showTrain: true, run: '' };
let data: ChartData | undefined;

function evaluationTable(result: EvalResult, source: string | undefined): HTMLElement {
  const rows = Object.entries(result.byCategory).sort(([a], [b]) => a.localeCompare(b));
  return h(
    'section',
    { class: 'evaluation' },
    h('h3', {}, source ? l10n.t('Evaluation on {0}', source) : l10n.t('Evaluation (held-out records)')),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, l10n.t('category')), h('th', { class: 'n' }, l10n.t('accuracy')), h('th', { class: 'n' }, l10n.t('pairs')))),
      h(
        'tbody',
        {},
        h(
          'tr',
          { class: 'overall' },
          h('td', {}, l10n.t('overall')),
          h('td', { class: 'n' }, pct(result.overall)),
          h('td', { class: 'n' }, String(result.pairs)),
        ),
        ...rows.map(([name, c]) => h('tr', {}, h('td', {}, name), h('td', { class: 'n' }, pct(c.accuracy)), h('td', { class: 'n' }, String(c.pairs)))),
      ),
    ),
  );
}

function phaseSelect(phases: string[]): HTMLElement {
  const select = h(
    'vscode-single-select',
    { attrs: { 'aria-label': l10n.t('Phase') } },
    h('vscode-option', { attrs: { value: 'all', selected: view.phase === 'all' } }, l10n.t('All phases')),
    ...phases.map((p) => h('vscode-option', { attrs: { value: p, selected: view.phase === p } }, p)),
  );
  select.addEventListener('change', () => {
    view.phase = (select as HTMLElement & { value: string }).value || 'all';
    render();
  });
  return select;
}

function checkbox(label: string, checked: boolean, set: (v: boolean) => void): HTMLElement {
  const box = h('vscode-checkbox', { attrs: { checked } }, label);
  box.addEventListener('change', () => {
    set((box as HTMLElement & { checked: boolean }).checked);
    render();
  });
  return box;
}

function render(): void {
  if (data === undefined) return;
  const all = seriesOf(data.points);
  const phases = [...new Set(all.map((s) => s.phase))];
  if (view.phase !== 'all' && !phases.includes(view.phase)) view.phase = 'all';
  const shown = view.phase === 'all' ? all : all.filter((s) => s.phase === view.phase);
  const button = (label: string, action: IpcMessageType<Record<string, never>>, secondary = true): HTMLElement =>
    h('vscode-button', { attrs: { secondary }, on: { click: () => host.post(action({})) } }, label);
  replaceChildren(
    app,
    pageHeader(h('h1', {}, data.name), [
      subtitle(
        undefined,
        `${data.method} · ${data.state === 'stopped' ? l10n.t('stopped (resumable)') : data.state === 'running' ? l10n.t('running') : l10n.t('finished')} · ${l10n.t('{0} evaluations', data.points.length)}`,
      ),
      data.progress ? h('div', { class: 'progress-line' }, data.progress) : undefined,
    ]),
    h(
      'div',
      { class: 'toolbar' },
      phaseSelect(phases),
      checkbox(l10n.t('validation'), view.showVal, (v) => (view.showVal = v)),
      checkbox(l10n.t('training'), view.showTrain, (v) => (view.showTrain = v)),
      h('span', { class: 'spacer' }),
      h('vscode-button', { attrs: { secondary: true }, on: { click: () => host.post(RefreshChart({})) } }, l10n.t('Refresh')),
      data.state === 'stopped' ? button(l10n.t('Resume'), ResumeRun, false) : undefined,
      button(l10n.t('Model Card'), OpenModelCard),
      button(l10n.t('Reveal'), RevealRun),
    ),
    shown.length === 0
      ? h(
          'div',
          { class: 'empty' },
          h(
            'p',
            {},
            data.state === 'running'
              ? l10n.t('No evaluation yet: the first point appears after the first validation.')
              : l10n.t('This run has no metrics yet.'),
          ),
        )
      : accuracyChart(shown, view),
    chartLegend(shown),
    h('p', { class: 'muted note' }, l10n.t('Solid: validation accuracy; dashed: training accuracy. One line per phase or expert.')),
    data.evaluation ? evaluationTable(data.evaluation, data.evaluationSource) : undefined,
  );
  app.setAttribute('aria-busy', 'false');
}

host.onMessage((msg) => {
  if (!UpdateChart.is(msg)) return;
  const { data: next, message } = msg.params;
  if (next === undefined || !Array.isArray(next.points)) {
    data = undefined;
    renderMessage(app, message ?? l10n.t('Nothing to show.'));
    return;
  }
  if (next.run !== view.run) {
    view.run = next.run;
    view.phase = next.phase ?? 'all';
    host.setState({ run: next.run });
  } else if (next.phase !== undefined && next.phase !== data?.phase) view.phase = next.phase;
  data = next;
  render();
});
host.post(ChartReady({}));
