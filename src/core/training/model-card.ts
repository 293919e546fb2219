import type { ReferenceResult } from './references';
import type { EvalResult, Method, Phase } from './types';
import { formatEvalTable } from './evaluate';
import { codeBlock, escapeMarkdown, inlineCode } from '../markdown';
import { pct } from './format';
import type { PresetName } from '../model/config';

/**
 * MODEL_CARD.md of a run: what was trained on what, how, how well it agrees with people, and what it
 * should not be trusted with. Written from facts the recipe has; nothing here is measured anew.
 */

export interface ModelCardPhase {
  phase: Phase;
  /** Category or capability point of an expert (`roleplay`, `roleplay/empathy_ability`), member of an ensemble. */
  expert?: string;
  /** Steps trained. */
  steps: number;
  bestStep?: number;
  bestValAcc?: number | null;
  /** Why it ended before its step budget, if it did (`early stopping`, `time budget`). */
  stoppedBy?: string;
}

export interface ModelCardInfo {
  method: Method;
  base: { kind: 'preset'; preset: PresetName; parameters?: number } | { kind: 'imported'; folder: string; name?: string; parameters?: number };
  /** e.g. `WordPiece from bert-base-chinese, 21128 tokens, max length 512`. */
  tokenizer: string;
  data: {
    file: string;
    hash: string;
    records: number;
    pairs: number;
    /** Category → records. */
    categories: Record<string, number>;
    labels?: { file: string; used: number };
    /** The data evaluated on: a test file, or the held-out part of the training file. */
    test?: { file?: string; records: number; pairs: number };
  };
  phases: ModelCardPhase[];
  /** Category → capability points with the pairs each expert trained on. */
  capabilityPoints?: Record<string, Array<{ point: string; pairs: number }>>;
  evaluation?: EvalResult[];
  references?: ReferenceResult[];
  seed: number;
  backend: string;
  /** RewardLens version, ISO date: shown when given. */
  version?: string;
  created?: string;
  /** Extra lines for the limitations section (e.g. a truncated run). */
  notes?: string[];
}

const METHOD_TITLES: Record<Method, string> = {
  dmoerm: 'DMoERM (outer router over per-category inner MoEs of capability experts)',
  'dmoerm-no-outer': 'DMoERM without the outer router (one inner MoE over capability experts)',
  single: 'single reward model',
  mean: 'ensemble, mean of the members',
  wco: 'ensemble, worst-case (minimum of the members)',
  uwo: 'ensemble, uncertainty-weighted (mean − λ·variance of the members)',
};

/**
 * Cells are the card's own text (numbers, phase names) or names from the dataset and the label store
 * (categories, points, experts), which the callers pass through `escapeMarkdown`: raw, `<img src=…>` in a
 * category is a remote image in the Markdown preview.
 */
function table(header: string[], rows: string[][]): string[] {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

export function renderModelCard(info: ModelCardInfo): string {
  const out: string[] = [];
  out.push(`# Reward model: ${info.method}`, '');
  out.push(`Method: ${METHOD_TITLES[info.method]}.`, '');

  out.push('## Base', '');
  if (info.base.kind === 'preset')
    out.push(
      `Trained from scratch, preset ${inlineCode(info.base.preset)}${info.base.parameters !== undefined ? ` (${info.base.parameters.toLocaleString('en-US')} parameters)` : ''}.`,
    );
  else
    out.push(
      `Fine-tuned from the imported encoder in ${inlineCode(info.base.folder)}${info.base.name ? ` (${escapeMarkdown(info.base.name)})` : ''}${info.base.parameters !== undefined ? `, ${info.base.parameters.toLocaleString('en-US')} parameters` : ''}.`,
    );
  out.push('', `Tokenizer: ${escapeMarkdown(info.tokenizer)}.`, '');

  out.push('## Data', '');
  const d = info.data;
  out.push(
    `- Training file: ${inlineCode(d.file)} (content hash ${inlineCode(d.hash)})`,
    `- ${d.records.toLocaleString('en-US')} records, ${d.pairs.toLocaleString('en-US')} non-tied preference pairs`,
  );
  if (d.labels) out.push(`- Capability labels: ${inlineCode(d.labels.file)}, ${d.labels.used.toLocaleString('en-US')} labels used`);
  if (d.test)
    out.push(
      `- Evaluated on ${d.test.file ? inlineCode(d.test.file) : 'the held-out part of the training file (split by prompt)'}: ${d.test.records.toLocaleString('en-US')} records, ${d.test.pairs.toLocaleString('en-US')} pairs`,
    );
  const categories = Object.entries(d.categories).sort((x, y) => y[1] - x[1]);
  if (categories.length > 0)
    out.push(
      '',
      ...table(
        ['category', 'records'],
        categories.map(([c, n]) => [escapeMarkdown(c), String(n)]),
      ),
    );
  out.push('');

  out.push('## Training', '');
  if (info.phases.length === 0) out.push('No phase has run.');
  else
    out.push(
      ...table(
        ['phase', 'expert', 'steps', 'best step', 'best validation accuracy', 'stopped by'],
        info.phases.map((p) => [
          p.phase,
          escapeMarkdown(p.expert ?? ''),
          String(p.steps),
          p.bestStep === undefined ? '' : String(p.bestStep),
          pct(p.bestValAcc, '—'),
          p.stoppedBy ?? 'step budget',
        ]),
      ),
    );
  out.push('', `Seed ${info.seed}, backend ${info.backend}.`, '');

  const points = Object.entries(info.capabilityPoints ?? {});
  if (points.length > 0) {
    out.push('## Capability points', '');
    out.push(
      ...table(
        ['category', 'point', 'pairs'],
        points.flatMap(([c, ps]) => ps.map((p) => [escapeMarkdown(c), escapeMarkdown(p.point), String(p.pairs)])),
      ),
      '',
    );
  }

  out.push('## Evaluation', '');
  const results = [...(info.evaluation ?? []), ...(info.references ?? [])];
  if (results.length === 0) out.push('Not evaluated.');
  else {
    out.push(
      'Agreement with the human preferences: the share of non-tied human pairs in which the model gives the preferred response the strictly higher reward (paper Table 3).',
      '',
    );
    out.push(codeBlock(formatEvalTable(results)));
    if ((info.references ?? []).length > 0) out.push('', '`longer-wins` and `ratings:…` are reference judges on the same pairs, not models.');
  }
  out.push('');

  out.push('## Limitations', '');
  out.push(
    '- Human preference labels are noisy: annotators agree on roughly 60–75% of pairs in common preference datasets, which bounds the agreement any model can show.',
  );
  if (d.labels)
    out.push(
      "- Capability-point labels come from an LLM judge (or from its ratings); only verdicts that agree in both response orders were used, but the judge's own biases remain.",
    );
  if (info.base.kind === 'preset')
    out.push(
      '- A small encoder trained from scratch on one dataset learns surface cues (length, wording) more than meaning; expect it to fail on prompts unlike its training data.',
    );
  else
    out.push(
      "- The imported encoder's pre-training (languages, domains, maximum length) limits what the reward model can judge; text beyond the maximum length is cut.",
    );
  if (d.test === undefined) out.push('- No held-out evaluation was made: the agreement of this model with people is unknown.');
  for (const n of info.notes ?? []) out.push(`- ${n}`);
  out.push('');

  out.push('## Intended use', '');
  out.push(
    'Research on reward modelling: ranking candidate responses of the kind it was trained on, comparing methods, and studying where the model and people disagree. Not for decisions about people, and not as the only signal to optimise a policy against without checking for reward hacking.',
    '',
  );
  if (info.version || info.created) out.push(`Made with RewardLens${info.version ? ` ${info.version}` : ''}${info.created ? `, ${info.created}` : ''}.`, '');
  return out.join('\n');
}
