// Reward breakdown webview: one record scored by the reward model — the router's probabilities, a table
// with one column per response (human rank, reward, rank by reward, agreement) and one row per
// capability point and ensemble member, then the conversation. Everything from the dataset or the
// model (texts, category and point names) only ever becomes Text nodes through lib/dom's `h`.
// Bar widths are set through the CSSOM (`style.width`), which the CSP allows, unlike style attributes.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { Rating } from '../src/core/dataset/record';
import { h, pageHeader, renderMessage, replaceChildren, subtitle } from './lib/dom';
import { l10n } from './lib/l10n';
import type { IpcMessageType } from './lib/ipc';
import { connect } from './lib/vscode-api';
import type { BreakdownColumn, BreakdownData, BreakdownRow, BreakdownState } from './reward-breakdown-protocol';
import { BreakdownReady, ChangeBreakdownModel, OpenBreakdownJson, RevealBreakdownRecord, UpdateBreakdown } from './reward-breakdown-protocol';
import { pct } from '../src/core/training/format';

const host = connect<BreakdownState>();
const app = document.getElementById('app')!;

const fixed = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : String(v));

/** A horizontal bar filled to `fraction` (clamped to [0, 1]). */
function bar(fraction: number, tone = ''): HTMLElement {
  const fill = h('span', { class: `bar-fill ${tone}`.trim() });
  fill.style.width = `${Math.round(100 * Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0)))}%`;
  return h('span', { class: 'bar', attrs: { 'aria-hidden': 'true' } }, fill);
}

function action(label: string, type: IpcMessageType<Record<string, never>>, title: string): HTMLElement {
  return h('vscode-button', { attrs: { secondary: true }, title, on: { click: () => host.post(type({})) } }, label);
}

function renderRouter(d: BreakdownData): HTMLElement | undefined {
  const r = d.router;
  if (r === undefined) return undefined;
  const agrees = d.category === undefined ? undefined : d.category === r.chosen;
  return h(
    'section',
    { class: 'router' },
    h('h3', {}, l10n.t('Router')),
    h(
      'div',
      { class: 'router-decision' },
      l10n.t('Routed to '),
      h('strong', {}, r.chosen),
      d.category !== undefined
        ? h('span', { class: agrees ? 'muted' : 'mismatch' }, agrees ? l10n.t(' (the record’s own category)') : l10n.t(' (the record says {0})', d.category))
        : undefined,
    ),
    h(
      'ul',
      { class: 'bars' },
      ...r.categories.map((c) =>
        h(
          'li',
          { class: c.name === r.chosen ? 'chosen' : '' },
          h('span', { class: 'bar-label', title: c.name }, c.name),
          bar(c.probability, c.name === r.chosen ? 'accent' : ''),
          h('span', { class: 'num' }, pct(c.probability)),
        ),
      ),
    ),
  );
}

function mark(c: BreakdownColumn): HTMLElement {
  if (c.pairs === 0) return h('span', { class: 'muted', title: l10n.t('no human pair with this response') }, '—');
  const ok = c.agree === c.pairs;
  return h(
    'span',
    { class: ok ? 'ok' : 'bad', title: l10n.t('the rewards order {0} of its {1} human pairs the human’s way', c.agree, c.pairs) },
    `${ok ? '✓' : '✗'} ${c.agree}/${c.pairs}`,
  );
}

/** Cells of a row of scores; `range` scales the bars (capabilities are in [0, 1], rewards are not). */
function scoreCells(scores: readonly number[], range: { lo: number; hi: number }): HTMLElement[] {
  const span = range.hi - range.lo;
  return scores.map((s) => h('td', { class: 'score' }, h('span', { class: 'num' }, fixed(s)), bar(span > 0 ? (s - range.lo) / span : 1)));
}

function rangeOf(values: readonly number[]): { lo: number; hi: number } {
  const finite = values.filter(Number.isFinite);
  return finite.length === 0 ? { lo: 0, hi: 1 } : { lo: Math.min(...finite), hi: Math.max(...finite) };
}

function rowOf(r: BreakdownRow, range: { lo: number; hi: number }): HTMLElement {
  return h('tr', {}, h('th', { attrs: { scope: 'row' }, title: r.alternative ?? r.key }, r.label), ...scoreCells(r.scores, range));
}

function renderTable(d: BreakdownData): HTMLElement {
  const cols = d.columns;
  const head = h(
    'tr',
    {},
    h('th', {}, ''),
    ...cols.map((c) =>
      h(
        'th',
        { class: `response-col${c.humanBest ? ' human-best' : ''}${c.modelTop ? ' model-top' : ''}` },
        `R${c.index + 1}`,
        c.modelTop ? h('span', { class: 'tag', title: l10n.t('the model’s pick') }, ' ★') : undefined,
      ),
    ),
  );
  const rewards = cols.map((c) => c.reward);
  const section = (label: string, n: number): HTMLElement => h('tr', { class: 'section' }, h('th', { attrs: { colspan: n + 1 } }, label));
  const rows: HTMLElement[] = [
    h(
      'tr',
      {},
      h('th', { attrs: { scope: 'row' } }, l10n.t('Human rank')),
      ...cols.map((c) => h('td', { class: c.humanBest ? 'human-best' : '' }, c.humanRank === undefined ? '—' : String(c.humanRank))),
    ),
    h(
      'tr',
      { class: 'reward' },
      h(
        'th',
        { attrs: { scope: 'row' }, title: l10n.t('the final reward logit, pre-σ (bars scaled from the lowest to the highest of this record)') },
        l10n.t('Reward logit'),
      ),
      ...scoreCells(rewards, rangeOf(rewards)),
    ),
    h('tr', {}, h('th', { attrs: { scope: 'row' } }, l10n.t('Rank by reward logit')), ...cols.map((c) => h('td', {}, String(c.rewardRank)))),
    h(
      'tr',
      {},
      h(
        'th',
        { attrs: { scope: 'row' }, title: l10n.t('whether the rewards order every human pair of the response the human’s way') },
        l10n.t('Matches human'),
      ),
      ...cols.map((c) => h('td', {}, mark(c))),
    ),
  ];
  if (d.capabilities.length > 0) {
    rows.push(section(d.router ? l10n.t('Capability points of {0}', d.router.chosen) : l10n.t('Capability points'), cols.length));
    for (const r of d.capabilities) rows.push(rowOf(r, { lo: 0, hi: 1 }));
  }
  if (d.members.length > 0) {
    rows.push(section(l10n.t('Ensemble members ({0})', d.model.ensemble?.aggregation ?? l10n.t('aggregated')), cols.length));
    const range = rangeOf(d.members.flatMap((m) => m.scores));
    for (const r of d.members) rows.push(rowOf(r, range));
  }
  return h('div', { class: 'table-wrap' }, h('table', { class: 'breakdown' }, h('thead', {}, head), h('tbody', {}, ...rows)));
}

function ratingsTable(ratings: readonly Rating[]): HTMLElement | undefined {
  if (ratings.length === 0) return undefined;
  return h(
    'table',
    { class: 'ratings' },
    h('thead', {}, h('tr', {}, h('th', {}, l10n.t('Rating')), h('th', { class: 'num' }, l10n.t('Value')), h('th', {}, l10n.t('Source')))),
    h('tbody', {}, ...ratings.map((x) => h('tr', {}, h('td', {}, x.aspect), h('td', { class: 'num' }, String(x.value)), h('td', {}, x.source)))),
  );
}

function renderConversation(d: BreakdownData): HTMLElement[] {
  const role = (r: string): string => (r === 'user' ? l10n.t('User') : r === 'assistant' ? l10n.t('Assistant') : l10n.t('System'));
  const turns = h(
    'details',
    { class: 'block', attrs: { open: d.context.length <= 4 } },
    h('summary', {}, d.context.length === 1 ? l10n.t('Conversation (1 turn)') : l10n.t('Conversation ({0} turns)', d.context.length)),
    ...d.context.map((t) => h('div', { class: `turn ${t.role}` }, h('div', { class: 'role' }, role(t.role)), h('div', { class: 'text' }, t.content))),
  );
  const responses = d.responses.map((r, i) => {
    const c = d.columns[i];
    const summary = h(
      'summary',
      {},
      l10n.t('Response {0}', i + 1),
      c
        ? h(
            'span',
            { class: 'muted' },
            ` · ${l10n.t('reward {0}', fixed(c.reward))}${c.humanRank !== undefined ? ` · ${l10n.t('human rank {0}', c.humanRank)}` : ''}`,
          )
        : undefined,
      r.model !== undefined ? h('span', { class: 'model' }, r.model) : undefined,
    );
    return h(
      'details',
      { class: `block response${c?.humanBest ? ' human-best' : ''}`, attrs: { open: true } },
      summary,
      ratingsTable(r.ratings),
      h('div', { class: 'text' }, r.text),
    );
  });
  return [turns, ...responses];
}

function render(d: BreakdownData): void {
  const m = d.model;
  const header = pageHeader(
    h('h1', { title: d.id }, l10n.t('Record {0}', d.index + 1), d.category !== undefined ? h('vscode-badge', { class: 'category' }, d.category) : undefined),
    [
      subtitle(undefined, l10n.t('{0}, line {1} · human: {2}', d.dataset, d.line, d.preference)),
      subtitle(
        m.file,
        l10n.t('Model {0} · {1}', m.name, m.method),
        m.ensemble ? ` · ${l10n.t('ensemble of {0} ({1})', m.ensemble.members.length, m.ensemble.aggregation)}` : '',
        d.agreement.pairs > 0
          ? h(
              'span',
              { class: d.agreement.agree === d.agreement.pairs ? 'ok' : 'bad' },
              ` · ${l10n.t('agrees on {0} of {1} human pairs', d.agreement.agree, d.agreement.pairs)}`,
            )
          : undefined,
      ),
    ],
    [
      action(l10n.t('Go to Line'), RevealBreakdownRecord, l10n.t('Show the record in the editor')),
      action(l10n.t('Open as JSON'), OpenBreakdownJson, l10n.t('The record as a read-only JSON document')),
      action(l10n.t('Change Model…'), ChangeBreakdownModel, l10n.t('Select Reward Model…')),
    ],
  );
  replaceChildren(
    app,
    header,
    renderRouter(d),
    h('h3', {}, l10n.t('Scores per response')),
    renderTable(d),
    h('h3', {}, l10n.t('Conversation and responses')),
    ...renderConversation(d),
  );
  app.setAttribute('aria-busy', 'false');
}

host.onMessage((msg) => {
  if (!UpdateBreakdown.is(msg)) return;
  const { data, message, pending } = msg.params;
  if (pending !== undefined) {
    // Keep the last breakdown visible (dimmed) while the next record or model is scored.
    if (app.querySelector('.breakdown') !== null) app.classList.add('pending');
    else renderMessage(app, pending);
    return;
  }
  app.classList.remove('pending');
  if (data === undefined || !Array.isArray(data.columns)) {
    renderMessage(app, message ?? l10n.t('Nothing to show.'));
    return;
  }
  host.setState({ uri: data.uri, index: data.index });
  render(data);
});

host.post(BreakdownReady({}));
