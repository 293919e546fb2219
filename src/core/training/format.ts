/**
 * Readable forms of training numbers and events, one for the CLI, the extension's log, notifications and
 * views, and the webviews (hence no Node imports here).
 */
import type { EvalResult, TrainEvent } from './types';

/** `71.2%`; `missing` for an accuracy that does not exist (no pairs, not evaluated). Tables of the model card write `—`. */
export function pct(x: number | null | undefined, missing = '–'): string {
  return x === null || x === undefined || !Number.isFinite(x) ? missing : `${(100 * x).toFixed(1)}%`;
}

type Progress = Extract<TrainEvent, { type: 'progress' }>;

/** `phase2 [empathy] step 40/200 loss 0.6931, train acc 60.0%, val acc 62.5%`: the accuracies when measured. */
export function progressText(e: Omit<Progress, 'type'>): string {
  const acc = [e.trainAcc !== undefined ? `train acc ${pct(e.trainAcc)}` : '', e.valAcc !== undefined ? `val acc ${pct(e.valAcc)}` : '']
    .filter(Boolean)
    .join(', ');
  return `${e.phase}${e.expert ? ` [${e.expert}]` : ''} step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)}${acc ? `, ${acc}` : ''}`;
}

/** One line per event worth a line; undefined for the rest. */
export function formatTrainEvent(e: TrainEvent): string | undefined {
  switch (e.type) {
    case 'backend':
      return e.backend === 'torch'
        ? `backend: PyTorch on ${e.tfBackend}${e.note ? ` (${e.note})` : ''}`
        : `backend: ${e.backend} (tfjs ${e.tfBackend})${e.note ? ` — ${e.note}` : ''}`;
    case 'phase':
      return `${e.phase}${e.expert ? ` [${e.expert}]` : ''}: ${e.message}`;
    case 'progress':
      return progressText(e);
    case 'checkpoint':
      return undefined;
    case 'evaluation':
      return `evaluation: ${pct(e.result.overall)} of ${e.result.pairs} pairs`;
    case 'log':
      return `${e.level === 'warn' ? 'warning: ' : ''}${e.message}`;
  }
}

/** The small table of `rewardlens eval`: overall, then each category. */
export function formatEvalResult(r: EvalResult): string {
  const rows: [string, string, string][] = [
    ['category', 'accuracy', 'pairs'],
    ['overall', pct(r.overall), String(r.pairs)],
  ];
  for (const [name, c] of Object.entries(r.byCategory).sort(([a], [b]) => a.localeCompare(b))) rows.push([name, pct(c.accuracy), String(c.pairs)]);
  const width = rows.reduce((w, [n]) => Math.max(w, n.length), 0);
  return [`method: ${r.method}`, ...rows.map(([n, a, p]) => `${n.padEnd(width)}  ${a.padStart(8)}  ${p.padStart(7)}`)].join('\n');
}
