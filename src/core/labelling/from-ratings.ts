import type { Dataset } from '../dataset/dataset';
import type { PreferenceRecord } from '../dataset/record';
import type { PointsConfig } from './points';
import { findCategory, pointForAspect } from './points';
import type { LabelLine } from './store';
import { LabelStore } from './store';

/**
 * Capability-point labels from ratings the data already has (llmeval2's GPT-4 stars, UltraFeedback or
 * HelpSteer scores): for each pair of responses and each aspect both were rated on by `source`, the
 * higher rating wins; equal ratings are stored as `tie` (not kept for training, but counted). Aspects
 * become points through `ratingAspects` in the points config, else by name. No API call; resumable
 * like a job (labels already stored are skipped).
 */

export interface FromRatingsOptions {
  dataset: Dataset;
  store: string;
  /** The `source` of the ratings to use (`gpt-4`, `human`, …). */
  source: string;
  points: PointsConfig;
  limitRecords?: number;
}

export interface FromRatingsSummary {
  store: string;
  source: string;
  records: number;
  /** Records with at least two responses rated by the source. */
  recordsWithRatings: number;
  /** Labels written now. */
  written: number;
  /** Labels found in the store already. */
  alreadyStored: number;
  decided: number;
  ties: number;
  /** Point id → labels (written or stored). */
  byPoint: Record<string, number>;
  /** Rating sources seen in the records, with how many responses each rated (to spot a misspelt source). */
  sourcesSeen: Record<string, number>;
}

/** Per aspect, the mean rating of each response by `source` (a response rated twice counts once). */
function ratingsOf(record: PreferenceRecord, source: string, seen: Record<string, number>): Map<string, (number | undefined)[]> {
  const byAspect = new Map<string, (number | undefined)[]>();
  record.responses.forEach((response, i) => {
    const sums = new Map<string, { sum: number; n: number }>();
    for (const r of response.ratings ?? []) {
      seen[r.source] = (seen[r.source] ?? 0) + 1;
      if (r.source !== source || !Number.isFinite(r.value)) continue;
      const s = sums.get(r.aspect) ?? { sum: 0, n: 0 };
      s.sum += r.value;
      s.n++;
      sums.set(r.aspect, s);
    }
    for (const [aspect, { sum, n }] of sums) {
      const values = byAspect.get(aspect) ?? new Array<number | undefined>(record.responses.length).fill(undefined);
      values[i] = sum / n;
      byAspect.set(aspect, values);
    }
  });
  return byAspect;
}

export function labelsFromRatings(o: FromRatingsOptions): FromRatingsSummary {
  const setup = `ratings:${o.source}`;
  const summary: FromRatingsSummary = {
    store: o.store,
    source: o.source,
    records: 0,
    recordsWithRatings: 0,
    written: 0,
    alreadyStored: 0,
    decided: 0,
    ties: 0,
    byPoint: {},
    sourcesSeen: {},
  };
  const store = LabelStore.open(o.store);
  try {
    const n = Math.min(o.dataset.size, o.limitRecords ?? Infinity);
    const seenIds = new Set<string>();
    for (let index = 0; index < n; index++) {
      const { record } = o.dataset.read(index);
      if (!record || seenIds.has(record.id)) continue;
      seenIds.add(record.id);
      summary.records++;
      const category = findCategory(o.points, record.category)?.name ?? record.category ?? 'uncategorised';
      let rated = false;
      for (const [aspect, values] of ratingsOf(record, o.source, summary.sourcesSeen)) {
        const point = pointForAspect(o.points, aspect);
        for (let a = 0; a < values.length; a++) {
          const va = values[a];
          if (va === undefined) continue;
          for (let b = a + 1; b < values.length; b++) {
            const vb = values[b];
            if (vb === undefined) continue;
            rated = true;
            const key = `${setup}|${record.id}|${a}-${b}|${point}`;
            const tie = va === vb;
            if (tie) summary.ties++;
            else summary.decided++;
            summary.byPoint[point] = (summary.byPoint[point] ?? 0) + 1;
            if (store.has(key)) {
              summary.alreadyStored++;
              continue;
            }
            const line: LabelLine = {
              type: 'label',
              key,
              setup,
              record: record.id,
              index,
              category,
              a,
              b,
              point,
              source: setup,
              result: tie ? 'tie' : 'consistent',
              winner: tie ? null : va > vb ? a : b,
              ts: new Date().toISOString(),
            };
            store.append(line);
            summary.written++;
          }
        }
      }
      if (rated) summary.recordsWithRatings++;
    }
  } finally {
    store.close();
  }
  return summary;
}
