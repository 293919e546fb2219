// Disagreement explorer webview: the human pairs the reward model orders the other way, most confident
// first, one page at a time (the host keeps the list), with filters, label-noise flags and a jump to the
// record's line. Response texts, categories and point names are dataset text: text nodes only (dom.ts).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-progress-bar/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { CapabilityVerdict } from '../src/core/scoring/disagreements';
import { agreementProvenance, engineDifferenceNote } from '../src/core/scoring/engines';
import type { DisagreementsSummary, DisagreementView, PageQuery } from './disagreements-protocol';
import type { DatasetState } from './lib/state';
import {
  DisagreementsPage,
  EditDisagreement,
  DisagreementsProgress,
  DisagreementsReady,
  ExportDisagreements,
  PAGE_SIZE,
  RequestPage,
  Rescore,
  RevealRecord,
  UpdateDisagreements,
} from './disagreements-protocol';
import { button, h, pageHeader, renderMessage, replaceChildren, subtitle } from './lib/dom';
import { l10n } from './lib/l10n';
import type { Child } from './lib/dom';
import { formatCount, formatShare } from './lib/format';
import { connect } from './lib/vscode-api';
import { pct } from '../src/core/training/format';

const host = connect<DatasetState>();
const app = document.getElementById('app')!;
const progress = h(
  'div',
  { class: 'progress-wrap' },
  h('vscode-progress-bar', { attrs: { indeterminate: true, 'aria-label': l10n.t('Scoring') } }),
  h('div', { class: 'progress-text', attrs: { role: 'status' } }),
);
progress.hidden = true;
document.body.prepend(progress);

let summary: DisagreementsSummary | undefined;
/** The filters; the host answers each change with the first page of the filtered list. */
const filter: Omit<PageQuery, 'offset'> = { labelNoiseOnly: false };
const list = h('section', { class: 'list', attrs: { 'aria-label': l10n.t('Disagreements') } });

const fixed = (x: number | null, digits = 3): string => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(digits));

function request(offset: number): void {
  host.post(RequestPage({ offset, ...filter }));
}

function categorySelect(label: string, values: string[], current: string | undefined, set: (v: string | undefined) => void): HTMLElement {
  const all = '\u0000all';
  const el = h(
    'vscode-single-select',
    { attrs: { 'aria-label': label } },
    h('vscode-option', { attrs: { value: all, selected: current === undefined } }, l10n.t('{0}: all', label)),
    ...values.map((v) => h('vscode-option', { attrs: { value: v, selected: current === v } }, v)),
  );
  el.addEventListener('change', () => {
    const v = (el as HTMLElement & { value: string }).value;
    set(v === all ? undefined : v);
    request(0);
  });
  return el;
}

function verdictList(verdicts: CapabilityVerdict[], withModel: boolean): Child {
  const points = verdicts.filter((v) => v.withModel === withModel);
  if (points.length === 0) return undefined;
  return h(
    'div',
    { class: withModel ? 'with-model' : 'with-human' },
    withModel ? l10n.t('model ✓ ') : l10n.t('human ✓ '),
    ...points.map((v, i) => h('span', { class: 'point', title: v.source }, `${i > 0 ? ', ' : ''}${v.point}`)),
  );
}

function labelsCell(r: DisagreementView): HTMLElement {
  if (r.verdicts.length === 0) return h('td', { class: 'labels muted' }, l10n.t('no labels'));
  const withModel = r.verdicts.filter((v) => v.withModel).length;
  return h(
    'td',
    { class: 'labels', title: l10n.t('{0} of {1} consistent capability verdicts prefer the human loser', withModel, r.verdicts.length) },
    r.labelNoise ? h('span', { class: 'noise' }, l10n.t('label noise? ')) : undefined,
    h('span', { class: 'muted' }, l10n.t('{0}/{1} with model', withModel, r.verdicts.length)),
    verdictList(r.verdicts, true),
    verdictList(r.verdicts, false),
  );
}

function response(label: string, index: number, reward: number, text: string): HTMLElement {
  return h(
    'div',
    { class: 'response' },
    h('span', { class: 'tag' }, `${label} R${index + 1}`),
    h('span', { class: 'reward' }, ` ${fixed(reward)} `),
    h('span', { class: 'text' }, text),
  );
}

/** Flip the pair's human preference, or tag the record as label noise: edits in the dataset's journal. */
function curationButtons(r: DisagreementView): HTMLElement {
  const post = (action: 'flip' | 'tag-noise'): void => host.post(EditDisagreement({ index: r.index, a: r.humanWinner, b: r.humanLoser, action }));
  return h(
    'div',
    { class: 'curation' },
    h(
      'button',
      {
        class: 'link',
        attrs: { 'data-edit': 'flip' },
        title: l10n.t('Flip the human preference of this pair (an edit; the file is not written)'),
        on: { click: () => post('flip') },
      },
      l10n.t('flip'),
    ),
    ' ',
    h(
      'button',
      { class: 'link', attrs: { 'data-edit': 'tag-noise' }, title: l10n.t('Tag the record "label-noise"'), on: { click: () => post('tag-noise') } },
      l10n.t('noise'),
    ),
  );
}

function row(r: DisagreementView): HTMLElement {
  const rw = r.rewards[r.humanWinner === r.a ? 0 : 1];
  const rl = r.rewards[r.humanLoser === r.a ? 0 : 1];
  const reveal = (): void => host.post(RevealRecord({ index: r.index, line: r.line }));
  const tr = h(
    'tr',
    { class: r.labelNoise ? 'noise-row' : undefined },
    h(
      'td',
      { class: 'line' },
      h('button', { class: 'link', title: l10n.t('record {0} ({1}): show it in the editor', r.index + 1, r.id), on: { click: reveal } }, String(r.line)),
      curationButtons(r),
    ),
    h(
      'td',
      { class: 'category' },
      h('div', {}, r.datasetCategory),
      r.routerCategory !== undefined ? h('div', { class: 'muted', title: l10n.t("the router's category") }, `→ ${r.routerCategory}`) : undefined,
    ),
    h('td', { class: 'pair' }, response(l10n.t('human ✓'), r.humanWinner, rw, r.winnerText), response(l10n.t('model ✓'), r.humanLoser, rl, r.loserText)),
    h('td', { class: 'n', title: l10n.t('r(human loser) − r(human winner)') }, fixed(r.margin)),
    h(
      'td',
      { class: 'n', title: l10n.t("P(human loser better): the model's Bradley–Terry probability σ(margin), margin on reward logits") },
      pct(r.confidence),
    ),
    labelsCell(r),
  );
  tr.addEventListener('dblclick', reveal);
  return tr;
}

function pager(offset: number, count: number, total: number): HTMLElement {
  const from = total === 0 ? 0 : offset + 1;
  return h(
    'div',
    { class: 'pager' },
    h('span', { class: 'range' }, l10n.t('{0}–{1} of {2}', formatCount(from), formatCount(offset + count), formatCount(total))),
    h(
      'vscode-button',
      { attrs: { secondary: true, disabled: offset === 0 }, on: { click: () => request(Math.max(0, offset - PAGE_SIZE)) } },
      l10n.t('Previous'),
    ),
    h('vscode-button', { attrs: { secondary: true, disabled: offset + count >= total }, on: { click: () => request(offset + PAGE_SIZE) } }, l10n.t('Next')),
  );
}

function renderPage(query: PageQuery, total: number, rows: DisagreementView[]): void {
  replaceChildren(
    list,
    pager(query.offset, rows.length, total),
    rows.length === 0
      ? h(
          'div',
          { class: 'empty' },
          h('p', {}, summary?.disagreements === 0 ? l10n.t('The model orders every human pair as people did.') : l10n.t('No pair matches the filters.')),
        )
      : h(
          'table',
          { class: 'rows' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, l10n.t('line')),
              h('th', {}, l10n.t('category')),
              h('th', {}, l10n.t('responses (reward logit, first words)')),
              h('th', { class: 'n' }, l10n.t('logit margin')),
              h('th', { class: 'n' }, l10n.t('P(loser better)')),
              h('th', {}, l10n.t('capability labels')),
            ),
          ),
          h('tbody', {}, ...rows.map(row)),
        ),
    rows.length > 20 ? pager(query.offset, rows.length, total) : undefined,
  );
}

function render(s: DisagreementsSummary): void {
  if (filter.category !== undefined && !s.categories.includes(filter.category)) filter.category = undefined;
  if (filter.routerCategory !== undefined && !s.routerCategories.includes(filter.routerCategory)) filter.routerCategory = undefined;
  const noise = h('vscode-checkbox', { attrs: { checked: filter.labelNoiseOnly } }, l10n.t('only label-noise candidates'));
  noise.addEventListener('change', () => {
    filter.labelNoiseOnly = (noise as HTMLElement & { checked: boolean }).checked;
    request(0);
  });
  replaceChildren(
    app,
    pageHeader(
      h('h1', { title: s.uri }, l10n.t('Disagreements: {0}', s.name)),
      [
        subtitle(s.model, `${s.model} (${s.method})`),
        subtitle(
          undefined,
          l10n.t(
            '{0} records · {1} human pairs · {2} ordered the other way ({3}) · {4} label-noise candidates',
            formatCount(s.records),
            formatCount(s.pairs),
            formatCount(s.disagreements),
            formatShare(s.disagreements, s.pairs),
            formatCount(s.labelNoise),
          ),
          s.labelStore ? ` · ${l10n.t('labels from {0}', s.labelStore)}` : ` · ${l10n.t('no capability labels')}`,
        ),
        subtitle(engineDifferenceNote('onnx'), agreementProvenance('onnx', s.pairs - s.disagreements, s.pairs)),
      ],
      [
        button(
          l10n.t('Export JSONL'),
          () => host.post(ExportDisagreements({ ...filter })),
          false,
          l10n.t('write the listed pairs (with the filters) to a .jsonl file'),
        ),
        button(l10n.t('Rescore'), () => host.post(Rescore({})), true),
      ],
    ),
    s.stale ? h('p', { class: 'warning' }, l10n.t('⚠ The dataset changed after scoring: lines and texts may not match. Rescore.')) : undefined,
    h(
      'p',
      { class: 'muted note' },
      l10n.t(
        'Pairs whose human winner the model does not reward higher, by the model’s confidence P(loser better) = σ(z_loser − z_winner) on reward logits z (pre-σ). Label noise?: most consistent capability verdicts for the pair prefer the human loser too. Click a line to open the record.',
      ),
    ),
    h(
      'div',
      { class: 'toolbar' },
      categorySelect(l10n.t('Category'), s.categories, filter.category, (v) => (filter.category = v)),
      s.routerCategories.length > 0
        ? categorySelect(l10n.t('Router'), s.routerCategories, filter.routerCategory, (v) => (filter.routerCategory = v))
        : undefined,
      noise,
    ),
    list,
  );
  app.setAttribute('aria-busy', 'false');
}

host.onMessage((msg) => {
  switch (true) {
    case UpdateDisagreements.is(msg): {
      const { data, message } = msg.params;
      if (data === undefined || !Array.isArray(data.categories)) {
        summary = undefined;
        renderMessage(app, message ?? l10n.t('Nothing to show.'));
        app.querySelector('.empty')?.appendChild(button(l10n.t('Rescore'), () => host.post(Rescore({})), true));
        return;
      }
      summary = data;
      host.setState({ uri: data.uri });
      render(data);
      break;
    }
    case DisagreementsPage.is(msg):
      if (summary !== undefined && Array.isArray(msg.params.rows)) renderPage(msg.params.query, msg.params.total, msg.params.rows);
      break;
    case DisagreementsProgress.is(msg): {
      const text = msg.params.text;
      progress.hidden = text === undefined;
      progress.querySelector('.progress-text')!.textContent = text ?? '';
      break;
    }
  }
});
host.post(DisagreementsReady({}));
