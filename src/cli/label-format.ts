import type { CostEstimate } from '../core/labelling/estimate';
import type { JobSummary, LabelPlan } from '../core/labelling/job';
import type { FromRatingsSummary } from '../core/labelling/from-ratings';
import type { LabelReport } from '../core/labelling/report';
import { pct } from '../core/training/format';

/** Text output of `rewardlens label` and `labels-from-ratings`. */

const int = (n: number): string => Math.round(n).toLocaleString('en-US');

function estimateLine(e: CostEstimate): string {
  const cost = e.cost === undefined ? 'cost: set --price-per-1k' : `cost ≈ ${e.cost.toFixed(2)}`;
  return `${int(e.calls)} calls, ≈${int(e.promptTokens)} prompt + ≈${int(e.completionTokens)} completion tokens, ${cost}`;
}

export function formatPlan(file: string, plan: LabelPlan): string {
  const r = plan.records;
  const cats = Object.entries(r.byCategory)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const lines = [
    `${file}: ${r.selected} of ${r.total} records selected, ${r.labelled} to label${cats ? ` (${cats})` : ''}`,
    r.unusable + r.fewerThanTwoResponses + r.skipped > 0
      ? `  left out: ${r.unusable} unusable, ${r.fewerThanTwoResponses} with fewer than 2 responses, ${r.skipped} without a category`
      : '',
    r.dropped + plan.staleEdits > 0
      ? `  edits journal: ${r.dropped} records dropped, not labelled${plan.staleEdits ? `; ${plan.staleEdits} stale edit(s) not applied` : ''} (--no-edits: label the file as it is)`
      : '',
    r.toClassify > 0 ? `  ${r.toClassify} records to classify first (their point calls are estimated)` : '',
    `  judge ${plan.provider} ${plan.model}, template ${plan.template}`,
    `  store ${plan.store}${plan.alreadyStored ? ` (${int(plan.alreadyStored)} calls already stored, not repeated)` : ''}`,
    `  this run: ${estimateLine(plan.remaining)}`,
    plan.full.calls !== plan.planned.calls
      ? `  selected records in all: ${estimateLine(plan.planned)}\n  full dataset: ${estimateLine(plan.full)}`
      : `  in all: ${estimateLine(plan.planned)}`,
    `  tokens are estimated (1 per CJK character, 1 per 4 other characters; docs/labelling.md)`,
  ];
  return lines.filter(Boolean).join('\n');
}

export function formatSummary(s: JobSummary): string {
  const head = { completed: 'done', cancelled: 'cancelled', failed: 'failed', 'max-calls': 'stopped at --max-calls' }[s.status];
  return [
    `${head}: ${int(s.calls)} calls made in ${(s.elapsedMs / 1000).toFixed(1)} s, ${int(s.alreadyStored)} were stored already, ${int(s.remaining)} still to make` +
      (s.failedCalls ? `, ${s.failedCalls} failed after retries` : '') +
      (s.retries ? `, ${s.retries} retries` : ''),
    s.calls > 0
      ? `  ${int(s.promptTokens)} prompt + ${int(s.completionTokens)} completion tokens${s.cost === undefined ? '' : `, cost ≈ ${s.cost.toFixed(2)}`}`
      : '',
    s.error ? `  error: ${s.error}` : '',
    s.remaining > 0 && s.status !== 'failed' ? '  run the same command again to go on' : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export function formatReport(r: LabelReport): string {
  const rows = [
    ['source', 'category', 'point', 'asked', 'consistent', 'inconsistent', 'invalid', 'ties', 'kept', 'pending', '1st pos', 'human aspect', 'human overall'],
  ];
  const agree = (a?: { n: number; rate: number | null }): string => (a && a.n ? `${pct(a.rate ?? 0)} of ${a.n}` : '–');
  for (const x of r.rows) {
    rows.push([
      x.source,
      x.category,
      x.point,
      String(x.asked),
      String(x.consistent),
      String(x.inconsistent),
      String(x.invalid),
      String(x.ties),
      String(x.kept),
      String(x.pending),
      pct(x.firstPosition),
      agree(x.humanAspect),
      agree(x.humanOverall),
    ]);
  }
  const t = r.totals;
  rows.push([
    'all',
    '',
    '',
    String(t.asked),
    String(t.consistent),
    String(t.inconsistent),
    String(t.invalid),
    String(t.ties),
    String(t.kept),
    String(t.pending),
    '',
    agree(t.humanAspect),
    agree(t.humanOverall),
  ]);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => [...row[i]].length)));
  const table = rows.map((row) =>
    row
      .map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])))
      .join('  ')
      .trimEnd(),
  );
  const classified = Object.entries(r.classified);
  return [
    `${r.store}: ${int(r.calls)} calls, ${int(r.promptTokens)} prompt + ${int(r.completionTokens)} completion tokens; kept ${t.kept} of ${t.asked} pairs asked (${pct(t.asked ? t.kept / t.asked : null)})`,
    classified.length ? `  classified: ${classified.map(([k, v]) => `${k} ${v}`).join(', ')}` : '',
    r.ignoredLines ? `  ${r.ignoredLines} torn or unreadable lines ignored` : '',
    ...table,
  ]
    .filter(Boolean)
    .join('\n');
}

export function formatFromRatings(s: FromRatingsSummary): string {
  const seen = Object.entries(s.sourcesSeen)
    .map(([k, v]) => `${k} (${v})`)
    .join(', ');
  return [
    `${s.store}: ${s.written} labels written from "${s.source}" ratings (${s.alreadyStored} stored already); ${s.decided} decided, ${s.ties} ties; ${s.recordsWithRatings} of ${s.records} records rated`,
    `  points: ${
      Object.entries(s.byPoint)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'none'
    }`,
    s.recordsWithRatings === 0 ? `  no ratings from "${s.source}"; sources in the data: ${seen || 'none'}` : '',
  ]
    .filter(Boolean)
    .join('\n');
}
