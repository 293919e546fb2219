// Reward breakdown webview: one record scored by the reward model — the router's probabilities, a table
// with one column per response (human rank, reward, rank by reward, agreement) and one row per
// capability point and ensemble member, then the conversation. Everything from the dataset or the
// model (texts, category and point names) only ever becomes Text nodes through lib/dom's `h`.
// Bar widths are set through the CSSOM (`style.width`), which the CSP allows, unlike style attributes.
import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-button/index.js';
import type { Rating } from '../src/core/dataset/record';
import { h, renderMessage, replaceChildren } from './lib/dom';
import { connect } from './lib/vscode-api';
import type { BreakdownColumn, BreakdownData, BreakdownRow, BreakdownState } from './reward-breakdown-protocol';
import { BreakdownAction, BreakdownReady, UpdateBreakdown } from './reward-breakdown-protocol';

const host = connect<BreakdownState>();
const app = document.getElementById('app')!;

const fixed = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : String(v));
const pct = (p: number): string => (Number.isFinite(p) ? `${(100 * p).toFixed(1)}%` : '–');

/** A horizontal bar filled to `fraction` (clamped to [0, 1]). */
function bar(fraction: number, tone = ''): HTMLElement {
  const fill = h('span', { class: `bar-fill ${tone}`.trim() });
  fill.style.width = `${Math.round(100 * Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0)))}%`;
  return h('span', { class: 'bar', attrs: { 'aria-hidden': 'true' } }, fill);
}

function action(label: string, name: string, title: string): HTMLElement {
  return h('vscode-button', { attrs: { secondary: true }, title, on: { click: () => host.post(BreakdownAction({ action: name })) } }, label);
}

function renderRouter(d: BreakdownData): HTMLElement | undefined {
  const r = d.router;
  if (r === undefined) return undefined;
  const agrees = d.category === undefined ? undefined : d.category === r.chosen;
  return h(
    'section',
    { class: 'router' },
    h('h3', {}, 'Router'),
    h(
      'div',
      { class: 'router-decision' },
      'Routed to ',
      h('strong', {}, r.chosen),
      d.category !== undefined ? h('span', { class: agrees ? 'muted' : 'mismatch' }, agrees ? ' (the record’s own category)' : ` (the record says ${d.category})`) : undefined,
    ),
    h(
      'ul',
      { class: 'bars' },
      ...r.categories.map((c) =>
        h('li', { class: c.name === r.chosen ? 'chosen' : '' }, h('span', { class: 'bar-label', title: c.name }, c.name), bar(c.probability, c.name === r.chosen ? 'accent' : ''), h('span', { class: 'num' }, pct(c.probability))),
      ),
    ),
  );
}

function mark(c: BreakdownColumn): HTMLElement {
  if (c.pairs === 0) return h('span', { class: 'muted', title: 'no human pair with this response' }, '—');
  const ok = c.agree === c.pairs;
  return h('span', { class: ok ? 'ok' : 'bad', title: `the rewards order ${c.agree} of its ${c.pairs} human pairs the human’s way` }, `${ok ? '✓' : '✗'} ${c.agree}/${c.pairs}`);
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
      h('th', { class: `response-col${c.humanBest ? ' human-best' : ''}${c.modelTop ? ' model-top' : ''}` }, `R${c.index + 1}`, c.modelTop ? h('span', { class: 'tag', title: 'the model’s pick' }, ' ★') : undefined),
    ),
  );
  const rewards = cols.map((c) => c.reward);
  const section = (label: string, n: number): HTMLElement => h('tr', { class: 'section' }, h('th', { attrs: { colspan: n + 1 } }, label));
  const rows: HTMLElement[] = [
    h('tr', {}, h('th', { attrs: { scope: 'row' } }, 'Human rank'), ...cols.map((c) => h('td', { class: c.humanBest ? 'human-best' : '' }, c.humanRank === undefined ? '—' : String(c.humanRank)))),
    h('tr', { class: 'reward' }, h('th', { attrs: { scope: 'row' }, title: 'the final reward logit, pre-σ (bars scaled from the lowest to the highest of this record)' }, 'Reward logit'), ...scoreCells(rewards, rangeOf(rewards))),
    h('tr', {}, h('th', { attrs: { scope: 'row' } }, 'Rank by reward logit'), ...cols.map((c) => h('td', {}, String(c.rewardRank)))),
    h('tr', {}, h('th', { attrs: { scope: 'row' }, title: 'whether the rewards order every human pair of the response the human’s way' }, 'Matches human'), ...cols.map((c) => h('td', {}, mark(c)))),
  ];
  if (d.capabilities.length > 0) {
    rows.push(section(d.router ? `Capability points of ${d.router.chosen}` : 'Capability points', cols.length));
    for (const r of d.capabilities) rows.push(rowOf(r, { lo: 0, hi: 1 }));
  }
  if (d.members.length > 0) {
    rows.push(section(`Ensemble members (${d.model.ensemble?.aggregation ?? 'aggregated'})`, cols.length));
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
    h('thead', {}, h('tr', {}, h('th', {}, 'Rating'), h('th', { class: 'num' }, 'Value'), h('th', {}, 'Source'))),
    h('tbody', {}, ...ratings.map((x) => h('tr', {}, h('td', {}, x.aspect), h('td', { class: 'num' }, String(x.value)), h('td', {}, x.source)))),
  );
}

function renderConversation(d: BreakdownData): HTMLElement[] {
  const role = (r: string): string => (r === 'user' ? 'User' : r === 'assistant' ? 'Assistant' : 'System');
  const turns = h(
    'details',
    { class: 'block', attrs: { open: d.context.length <= 4 } },
    h('summary', {}, `Conversation (${d.context.length} ${d.context.length === 1 ? 'turn' : 'turns'})`),
    ...d.context.map((t) => h('div', { class: `turn ${t.role}` }, h('div', { class: 'role' }, role(t.role)), h('div', { class: 'text' }, t.content))),
  );
  const responses = d.responses.map((r, i) => {
    const c = d.columns[i];
    const summary = h(
      'summary',
      {},
      `Response ${i + 1}`,
      c ? h('span', { class: 'muted' }, ` · reward ${fixed(c.reward)}${c.humanRank !== undefined ? ` · human rank ${c.humanRank}` : ''}`) : undefined,
      r.model !== undefined ? h('span', { class: 'model' }, r.model) : undefined,
    );
    return h('details', { class: `block response${c?.humanBest ? ' human-best' : ''}`, attrs: { open: true } }, summary, ratingsTable(r.ratings), h('div', { class: 'text' }, r.text));
  });
  return [turns, ...responses];
}

function render(d: BreakdownData): void {
  const m = d.model;
  const header = h(
    'header',
    { class: 'page-header' },
    h(
      'div',
      { class: 'titles' },
      h('h1', { title: d.id }, `Record ${d.index + 1}`, d.category !== undefined ? h('vscode-badge', { class: 'category' }, d.category) : undefined),
      h('div', { class: 'subtitle' }, `${d.dataset}, line ${d.line} · human: ${d.preference}`),
      h(
        'div',
        { class: 'subtitle', title: m.file },
        `Model ${m.name} · ${m.method}`,
        m.ensemble ? ` · ensemble of ${m.ensemble.members.length} (${m.ensemble.aggregation})` : '',
        d.agreement.pairs > 0 ? h('span', { class: d.agreement.agree === d.agreement.pairs ? 'ok' : 'bad' }, ` · agrees on ${d.agreement.agree} of ${d.agreement.pairs} human pairs`) : undefined,
      ),
    ),
    h('div', { class: 'actions' }, action('Go to Line', 'reveal', 'Show the record in the editor'), action('Open as JSON', 'json', 'The record as a read-only JSON document'), action('Change Model…', 'selectModel', 'Select Reward Model…')),
  );
  replaceChildren(app, header, renderRouter(d), h('h3', {}, 'Scores per response'), renderTable(d), h('h3', {}, 'Conversation and responses'), ...renderConversation(d));
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
    renderMessage(app, message ?? 'Nothing to show.');
    return;
  }
  host.setState({ uri: data.uri, index: data.index });
  render(data);
});

host.post(BreakdownReady({}));
