/**
 * What the editor shows of a model's scores (CodeLens titles, hover markdown). Pure, no `vscode`: the
 * texts and their escaping are unit-tested without a host.
 */
import type { PreferenceRecord } from '../../core/dataset/record';
import type { ModelRecordScore } from '../../core/scoring/session';
import { humanVerdict } from '../../core/scoring/best-of-n';
import { humanPairs } from '../../core/training/pairs';
import { escapeMarkdown } from '../../core/markdown';
import { l10n } from '../presentation/l10n';

const BAR_CELLS = 5;
/** Responses a score lens lists before it counts the rest. */
const LENS_RESPONSES = 4;
/** Between a bar and its value: a narrow hover wraps at spaces, and a value under its bar reads as the next row's. */
const NBSP = '\u00a0';

/** `▇▇▇▁▁` for 0.6: a score in [0, 1] as cells of a text bar (clamped; NaN is empty). */
export function bar(value: number, cells = BAR_CELLS): string {
  const v = Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
  const full = Math.round(v * cells);
  return '▇'.repeat(full) + '▁'.repeat(cells - full);
}

export function fixed(v: number): string {
  return Number.isFinite(v) ? v.toFixed(3) : String(v);
}

/** A reward logit, signed, two decimals (`+2.41`, `-0.07`): logits are unbounded, 3 decimals add nothing. */
export function signed(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const text = v.toFixed(2);
  // A margin that rounds to zero reads 0.00, not -0.00 or +0.00: it has no sign worth showing.
  return text === '-0.00' || text === '0.00' ? '0.00' : `${v > 0 ? '+' : ''}${text}`;
}

function percent(p: number): string {
  return `${Math.round(p * 100)}%`;
}

/** Response indices, highest reward first (ties keep the record's order). */
export function modelOrder(rewards: readonly number[]): number[] {
  return rewards.map((_, i) => i).sort((a, b) => rewards[b] - rewards[a] || a - b);
}

export interface ModelAgreement {
  /** Human (non-tied) pairs the rewards order the same way, of all of them. */
  agree: number;
  pairs: number;
  /** The human's best responses: those no other response beats (several when tied for first); empty without pairs. */
  humanBest: number[];
  modelTop: number;
  /**
   * The best reward of the human's best responses − the best reward of the others: positive when the
   * model's top is one of the human's best (by how much), negative when another response outscores them.
   */
  margin?: number;
}

export function modelAgreement(record: PreferenceRecord, rewards: readonly number[]): ModelAgreement {
  const { pairs } = humanPairs(record, 0);
  const agree = pairs.filter((p) => rewards[p.winner] > rewards[p.loser]).length;
  const modelTop = modelOrder(rewards)[0] ?? 0;
  const humanBest = humanVerdict(record).best;
  const out: ModelAgreement = { agree, pairs: pairs.length, humanBest, modelTop };
  const others = rewards.filter((_, i) => !humanBest.includes(i));
  if (humanBest.length > 0 && others.length > 0) out.margin = Math.max(...humanBest.map((i) => rewards[i])) - Math.max(...others);
  return out;
}

/** The router's decision and its probability, e.g. `objective knowledge QA 97%`; undefined without a router. */
export function routerDecision(score: ModelRecordScore, categories: readonly string[]): string | undefined {
  if (score.category === undefined) return undefined;
  const k = categories.indexOf(score.category);
  const p = k >= 0 ? score.probabilities?.[k] : undefined;
  return p === undefined ? score.category : `${score.category} ${percent(p)}`;
}

/**
 * The score lens: `$(git-merge) objective knowledge QA 97% · R2 0.912 › R1 0.540 › R3 0.101 · ✓ 3/3 pairs, top +0.372`.
 * Plain text: a CodeLens title renders no markdown, only `$(icon)`s, so `$(` in category names is broken up.
 */
export function scoreLensTitle(record: PreferenceRecord, score: ModelRecordScore, categories: readonly string[]): string {
  const parts: string[] = [];
  const route = routerDecision(score, categories);
  if (route !== undefined) parts.push(`$(git-merge) ${route.replace(/\$\(/g, '$\u200b(')}`);
  // Past four responses the title ran under the minimap: the top three and a count (the hover has them all).
  const order = modelOrder(score.logits);
  const shown = order.length > LENS_RESPONSES ? order.slice(0, LENS_RESPONSES - 1) : order;
  const more = order.length - shown.length;
  parts.push(shown.map((i) => `R${i + 1} ${signed(score.logits[i])}`).join(' › ') + (more > 0 ? ` › ${l10n.t('+{0} more', more)}` : ''));
  const a = modelAgreement(record, score.logits);
  if (a.pairs > 0) {
    const mark = a.agree === a.pairs ? '✓' : '✗';
    const margin = a.margin === undefined ? '' : l10n.t(', top {0}', signed(a.margin));
    parts.push(`${mark} ${l10n.t('{0}/{1} pairs', a.agree, a.pairs)}${margin}`);
  } else parts.push(record.preference === undefined ? l10n.t('no human ranking') : l10n.t('human: all tied'));
  return parts.join(' · ');
}

/** The lens's tooltip: what the numbers are. */
export function scoreLensTooltip(modelName: string, record: PreferenceRecord, score: ModelRecordScore): string {
  const a = modelAgreement(record, score.logits);
  const lines = [l10n.t("{0}: reward logit (pre-σ) per response, the model's best first.", modelName)];
  if (a.pairs > 0) lines.push(l10n.t('The model orders {0} of {1} human preference pairs the same way.', a.agree, a.pairs));
  if (a.margin !== undefined) {
    const best = a.humanBest.map((i) => `R${i + 1}`).join(' = ');
    lines.push(
      a.humanBest.includes(a.modelTop)
        ? l10n.t("The model's top (R{0}) is the human's best ({1}), {2} logit above the next response.", a.modelTop + 1, best, signed(a.margin))
        : l10n.t("The model prefers R{0} to the human's best ({1}) by {2} logit.", a.modelTop + 1, best, signed(-a.margin)),
    );
  }
  return lines.join('\n');
}

/**
 * Bars of one column scaled within the record, lowest empty and highest full: a pairwise-trained reward
 * means something only against the record's other responses, and a tiny expert's σ outputs can sit
 * within a few thousandths of each other, all in one bar cell on an absolute scale.
 */
function relativeBars(values: readonly number[]): string[] {
  const finite = values.filter(Number.isFinite);
  const lo = Math.min(...finite);
  const span = Math.max(...finite) - lo;
  return values.map((v) => bar(span > 0 ? (v - lo) / span : 0.5));
}

/**
 * The hover's score section (markdown; every name from the data or the model escaped): router
 * probabilities, then one row per response, the model's best first, with its reward, capability scores
 * (bars relative within the record) and human rank (from pairs when the record has no ranking).
 */
export function scoreHoverMarkdown(modelName: string, record: PreferenceRecord, score: ModelRecordScore, categories: readonly string[]): string {
  const out: string[] = [`**${l10n.t('Reward model')}** ${escapeMarkdown(modelName)}\n\n`];
  if (score.probabilities !== undefined && categories.length > 1) {
    const rows = categories
      .map((c, k) => ({ c, p: score.probabilities![k] }))
      .sort((x, y) => y.p - x.p)
      .map(({ c, p }) => `\`${bar(p)}\`${NBSP}${percent(p)} ${escapeMarkdown(c)}${c === score.category ? ` ← ${l10n.t('routed')}` : ''}`);
    out.push(`${l10n.t('Router: {0}', rows.join(' · '))}\n\n`);
  }
  const caps = score.capabilities ?? [];
  const ranks = humanVerdict(record).ranks;
  const rewardBars = relativeBars(score.logits);
  // Past three capability columns the bars no longer fit the hover's default width: values only, two decimals.
  const capBars = caps.length <= 3 ? caps.map((c) => relativeBars(c.scores)) : undefined;
  const capCell = (k: number, i: number): string => (capBars ? `\`${capBars[k][i]}\`${NBSP}${fixed(caps[k].scores[i])}` : caps[k].scores[i].toFixed(2));
  const head = [l10n.t('response'), l10n.t('reward logit'), ...caps.map((c) => escapeMarkdown(c.en || c.point)), l10n.t('human rank')];
  out.push(`| ${head.join(' | ')} |\n|${head.map((_, i) => (i === 0 ? '---' : i === head.length - 1 ? ':---:' : '---:')).join('|')}|\n`);
  for (const i of modelOrder(score.logits)) {
    const cells = [
      `R${i + 1}`,
      `\`${rewardBars[i]}\`${NBSP}${signed(score.logits[i])}`,
      ...caps.map((_, k) => capCell(k, i)),
      ranks[i] !== undefined ? String(ranks[i]) : '—',
    ];
    out.push(`| ${cells.join(' | ')} |\n`);
  }
  out.push(`\n${l10n.t('Bars compare the responses of this record (longest: the highest value in the column).')}\n\n`);
  const a = modelAgreement(record, score.logits);
  if (a.pairs > 0) out.push(`${a.agree === a.pairs ? '✓' : '✗'} ${l10n.t('agrees on {0} of {1} human pairs', a.agree, a.pairs)}\n\n`);
  return out.join('');
}
