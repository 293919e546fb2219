// Best-of-n webview: per model, how often its pick (the highest reward) is the human's best response
// and the mean human rank of the pick, a random-pick baseline, the same per n with KL_bon, and a paged
// table of records (the host sends one page at a time: datasets may have 100k records). Dataset text
// (snippets) and model names only ever become Text nodes through lib/dom's `h`.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { BonGroupStats } from '../src/core/scoring/best-of-n';
import { pct } from '../src/core/training/format';
import type { BestOfNState, BonHeader, BonPick, BonRow } from './best-of-n-protocol';
import {
  BestOfNReady,
  CancelBestOfN,
  ChooseBestOfNModels,
  RerunBestOfN,
  BON_PAGE_SIZE,
  BonPage,
  RequestBonPage,
  RevealBonRecord,
  SetBonFilter,
  UpdateBestOfN,
} from './best-of-n-protocol';
import { h, pageHeader, renderMessage, replaceChildren, subtitle } from './lib/dom';
import { formatCount } from './lib/format';
import { l10n } from './lib/l10n';
import type { IpcMessageType } from './lib/ipc';
import { connect } from './lib/vscode-api';

const host = connect<BestOfNState>();
const app = document.getElementById('app')!;

let header: BonHeader | undefined;
let page = 0;
let rows: BonRow[] | undefined;

const num = (x: number | undefined, digits = 2): string => (x === undefined ? '–' : x.toFixed(digits));
const responseName = (i: number | undefined): string => (i === undefined ? '—' : `R${i + 1}`);

function button(label: string, action: IpcMessageType<Record<string, never>>, secondary = true): HTMLElement {
  return h('vscode-button', { attrs: { secondary }, on: { click: () => host.post(action({})) } }, label);
}

type ProgressBar = HTMLElement & { value: number; max: number; indeterminate: boolean };
/** The progress bar and its text while scoring: updated in place, so the Cancel button beside them is never rebuilt under the pointer. */
let progressView: { bar: ProgressBar; text: HTMLElement } | undefined;

function setProgress(p: BonHeader['progress']): void {
  if (progressView === undefined) return;
  const { bar, text } = progressView;
  if (p !== undefined) {
    bar.max = 1;
    bar.value = Math.min(1, Math.max(0, p.fraction));
    bar.indeterminate = false;
  } else bar.indeterminate = true;
  text.textContent = p !== undefined ? `${p.text} · ${pct(p.fraction)}` : l10n.t('scoring…');
}

function renderProgress(hd: BonHeader): HTMLElement | undefined {
  progressView = undefined;
  if (hd.state !== 'scoring') return undefined;
  progressView = {
    bar: h('vscode-progress-bar', { attrs: { 'aria-label': l10n.t('scoring progress') } }) as ProgressBar,
    text: h('div', { class: 'progress-text' }),
  };
  setProgress(hd.progress);
  return h('div', { class: 'progress' }, progressView.bar, progressView.text, button(l10n.t('Cancel'), CancelBestOfN, false));
}

function statsRow(label: HTMLElement | string, stats: BonGroupStats, m: number | 'random'): HTMLElement {
  if (m === 'random')
    return h(
      'tr',
      { class: 'random' },
      h('th', { attrs: { scope: 'row' } }, label),
      h('td', { class: 'num' }, pct(stats.random.hitRate)),
      h('td', { class: 'num' }, '–'),
      h('td', { class: 'num' }, num(stats.random.meanRank)),
    );
  const s = stats.models[m];
  return h(
    'tr',
    {},
    h('th', { attrs: { scope: 'row' } }, label),
    h('td', { class: 'num' }, pct(s.hitRate)),
    h('td', { class: 'num muted' }, `${formatCount(s.hits)} / ${formatCount(s.judged)}`),
    h('td', { class: 'num' }, num(s.meanRank)),
  );
}

function renderSummary(hd: BonHeader): HTMLElement[] {
  const s = hd.summary;
  if (s === undefined) return [];
  const modelLabel = (k: number): HTMLElement =>
    h(
      'span',
      { title: hd.models[k]?.file ?? '' },
      hd.models[k]?.name ?? l10n.t('model {0}', k + 1),
      hd.models[k]?.method ? h('span', { class: 'muted' }, ` · ${hd.models[k].method}`) : undefined,
    );
  const overall = h(
    'table',
    { class: 'stats' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, l10n.t('Model')),
        h('th', { class: 'num', title: l10n.t('share of records whose pick is a human-best response') }, l10n.t('Pick is human best')),
        h('th', { class: 'num' }, l10n.t('Records')),
        h(
          'th',
          { class: 'num', title: l10n.t('mean human rank of the picked response over fully ranked records (1 = best; lower is better)') },
          l10n.t('Mean human rank'),
        ),
      ),
    ),
    h('tbody', {}, ...hd.models.map((_, k) => statsRow(modelLabel(k), s, k)), statsRow(l10n.t('random pick (expected)'), s, 'random')),
  );
  const perN = h(
    'table',
    { class: 'stats per-n' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { class: 'num' }, 'n'),
        h('th', { class: 'num' }, l10n.t('Records')),
        h('th', { class: 'num', title: l10n.t('KL_bon = log n − (n−1)/n (nats): how far best-of-n moves from the base policy') }, 'KL_bon'),
        h('th', { class: 'num' }, l10n.t('Random')),
        ...hd.models.map((m) => h('th', { class: 'num', title: m.file }, m.name)),
      ),
    ),
    h(
      'tbody',
      {},
      ...s.byN.map((g) =>
        h(
          'tr',
          {},
          h('td', { class: 'num' }, String(g.n)),
          h('td', { class: 'num' }, formatCount(g.records)),
          h('td', { class: 'num' }, g.kl.toFixed(3)),
          h('td', { class: 'num muted' }, pct(g.random.hitRate)),
          ...g.models.map((x) =>
            h('td', { class: 'num', title: l10n.t('{0} of {1}; mean human rank {2}', x.hits, x.judged, num(x.meanRank)) }, pct(x.hitRate)),
          ),
        ),
      ),
    ),
  );
  const noBest = s.records - s.judged;
  return [
    h('h3', {}, l10n.t('Picks against the human')),
    overall,
    h(
      'p',
      { class: 'muted note metrics-explained' },
      l10n.t(
        'Pick is human best: of the records with a human-best response, the share where the model’s highest-reward response is one — what best-of-n sampling is for; higher is better.',
      ),
      ' ',
      l10n.t(
        'Mean human rank: the human rank of the pick (1 = best) averaged over the fully ranked records, the same records as the random row; lower is better.',
      ),
      ' ',
      l10n.t(
        'The two can disagree: a model that finds the best response more often than chance but, when it misses, picks a poor one beats random on the first and loses on the second; records with more responses weigh more in the mean rank (ranks go up to n).',
      ),
    ),
    noBest > 0
      ? h(
          'p',
          { class: 'muted note' },
          l10n.t(
            '{0} of {1} records have no human best (all tied, unlabelled or a cycle of pairs); they count for the mean rank only.',
            formatCount(noBest),
            formatCount(s.records),
          ),
        )
      : undefined,
    h('h3', {}, l10n.t('By number of responses')),
    perN,
  ].filter((x): x is HTMLElement => x !== undefined);
}

function pickCell(p: BonPick): HTMLElement {
  const tone = p.hit === undefined ? '' : p.hit ? 'ok' : 'bad';
  const text = `${responseName(p.pick)}${p.rank !== undefined ? ` ${l10n.t('(rank {0})', p.rank)}` : ''}`;
  return h(
    'td',
    {
      class: `pick ${tone}`.trim(),
      title: p.hit === undefined ? l10n.t('no human best to compare with') : p.hit ? l10n.t('a human-best response') : l10n.t('not a human-best response'),
    },
    p.hit === undefined ? '' : p.hit ? '✓ ' : '✗ ',
    text,
  );
}

function renderTable(hd: BonHeader): HTMLElement[] {
  if (hd.summary === undefined) return [];
  const pages = Math.max(1, Math.ceil(hd.rows / BON_PAGE_SIZE));
  const filter = h(
    'vscode-single-select',
    {
      attrs: { 'aria-label': l10n.t('records to list') },
      on: { change: (e) => host.post(SetBonFilter({ filter: (e.target as HTMLElement & { value: string }).value })) },
    },
    ...[
      ['all', l10n.t('All records')],
      ['missed', l10n.t('A model misses the human best')],
      ['disagree', l10n.t('The models pick differently')],
    ].map(([value, label]) => h('vscode-option', { attrs: { value, selected: value === hd.filter } }, label)),
  );
  const go = (to: number): void => {
    page = Math.min(pages - 1, Math.max(0, to));
    rows = undefined;
    host.post(RequestBonPage({ generation: hd.generation, start: page * BON_PAGE_SIZE }));
    render();
  };
  const first = page * BON_PAGE_SIZE;
  const pager = h(
    'div',
    { class: 'pager' },
    h('vscode-button', { attrs: { secondary: true, disabled: page === 0 }, on: { click: () => go(page - 1) } }, l10n.t('‹ Previous')),
    h(
      'span',
      { class: 'muted' },
      hd.rows === 0
        ? l10n.t('no records')
        : l10n.t('{0}–{1} of {2}', formatCount(first + 1), formatCount(Math.min(hd.rows, first + BON_PAGE_SIZE)), formatCount(hd.rows)),
    ),
    h('vscode-button', { attrs: { secondary: true, disabled: page >= pages - 1 }, on: { click: () => go(page + 1) } }, l10n.t('Next ›')),
  );
  const body =
    rows === undefined
      ? [h('tr', {}, h('td', { class: 'muted', attrs: { colspan: 4 + hd.models.length } }, l10n.t('loading…')))]
      : rows.map((r) =>
          h(
            'tr',
            {
              class: 'record',
              attrs: { tabindex: 0 },
              title: l10n.t('line {0}: click to show it in the editor', r.line),
              on: {
                click: () => host.post(RevealBonRecord({ index: r.index })),
                keydown: (e) => (e as KeyboardEvent).key === 'Enter' && host.post(RevealBonRecord({ index: r.index })),
              },
            },
            h('td', { class: 'num' }, formatCount(r.index + 1)),
            h('td', { class: 'num muted' }, formatCount(r.line)),
            h('td', { class: 'num' }, String(r.n)),
            h('td', { class: 'human' }, r.humanBest.length > 0 ? r.humanBest.map(responseName).join(' = ') : '—'),
            ...r.picks.map(pickCell),
            h('td', { class: 'snippet' }, r.snippet),
          ),
        );
  return [
    h('div', { class: 'table-head' }, h('h3', {}, l10n.t('Records')), filter, pager),
    h(
      'div',
      { class: 'table-wrap' },
      h(
        'table',
        { class: 'records' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { class: 'num' }, '#'),
            h('th', { class: 'num' }, l10n.t('Line')),
            h('th', { class: 'num' }, 'n'),
            h('th', {}, l10n.t('Human best')),
            ...hd.models.map((m) => h('th', { title: m.file }, m.name)),
            h('th', {}, l10n.t('First user turn')),
          ),
        ),
        h('tbody', {}, ...body),
      ),
    ),
  ];
}

function render(): void {
  const hd = header;
  if (hd === undefined) return;
  const title = pageHeader(
    h('h1', {}, l10n.t('Best-of-n: {0}', hd.dataset)),
    [
      subtitle(
        undefined,
        hd.models.length > 0
          ? `${hd.models.length === 1 ? l10n.t('1 model') : l10n.t('{0} models', hd.models.length)}: ${hd.models.map((m) => m.name).join(', ')}`
          : l10n.t('no models chosen'),
        hd.eligible !== undefined && hd.records !== undefined
          ? ` · ${l10n.t('{0} of {1} records have n ≥ 2 responses', formatCount(hd.eligible), formatCount(hd.records))}`
          : '',
      ),
    ],
    [hd.state === 'scoring' ? undefined : button(l10n.t('Run'), RerunBestOfN, false), button(l10n.t('Choose Models…'), ChooseBestOfNModels)],
  );
  const message = hd.message !== undefined ? h('div', { class: `message ${hd.state}` }, hd.message) : undefined;
  replaceChildren(app, title, renderProgress(hd), message, ...renderSummary(hd), ...renderTable(hd));
  app.setAttribute('aria-busy', String(hd.state === 'scoring'));
}

host.onMessage((msg) => {
  switch (true) {
    case UpdateBestOfN.is(msg): {
      const next = msg.params.header;
      if (next === undefined || !Array.isArray(next.models)) {
        header = undefined;
        renderMessage(app, msg.params.message ?? l10n.t('Nothing to show.'));
        return;
      }
      const fresh = header?.generation !== next.generation;
      const stillScoring = !fresh && header?.state === 'scoring' && next.state === 'scoring' && next.message === header.message && progressView !== undefined;
      header = next;
      if (stillScoring) {
        setProgress(next.progress);
        break;
      }
      host.setState({ uri: next.uri, models: next.models.map((m) => m.file) });
      if (fresh) {
        page = 0;
        rows = undefined;
        if (next.summary !== undefined) host.post(RequestBonPage({ generation: next.generation, start: 0 }));
      }
      render();
      break;
    }
    case BonPage.is(msg):
      if (header === undefined || msg.params.generation !== header.generation || msg.params.start !== page * BON_PAGE_SIZE) break;
      rows = msg.params.rows;
      render();
      break;
  }
});

host.post(BestOfNReady({}));
