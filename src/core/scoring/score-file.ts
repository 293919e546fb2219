/**
 * `rewardlens score MODEL FILE`: every record of a dataset scored by an exported model, with its agreement
 * with the human ranking, and the summary accuracy counted as `rewardlens eval` counts it (evaluate.ts).
 */

import { loadPreferenceData } from '../training/data';
import { agreement } from '../training/evaluate';
import type { PairSample } from '../training/pairs';
import type { EvalResult } from '../training/types';
import { manifestTokenizer } from '../export/manifest';
import type { ModelRecordScore, OrtScorerOptions } from './session';
import { OrtScorer } from './session';

export interface FileRecordScore extends ModelRecordScore {
  /** Record number in the file. */
  index: number;
  /** The record's own category, as the data gives it (may differ from the router's `category`). */
  datasetCategory: string;
  /** Human pairs of the record and how many of them the rewards order the same way. */
  agreement: { agree: number; pairs: number };
}

export interface FileScore {
  model: string;
  file: string;
  method: string;
  records: FileRecordScore[];
  summary: EvalResult & { records: number; malformed: number; seconds: number };
  /** Which records of the file could not be read (PreferenceData.malformedNote), when any. */
  malformedNote?: string;
}

export interface ScoreFileOptions extends OrtScorerOptions {
  signal?: AbortSignal;
  schemaFile?: string;
  adapter?: string;
  /** An open scorer to reuse (its session and cache); otherwise one is made and disposed. */
  scorer?: OrtScorer;
  onProgress?: (done: number, total: number) => void;
  /** Pairs of records with many responses (default DEFAULT_PAIR_SAMPLE); `rewardlens eval` passes the run's. */
  pairSample?: PairSample;
}

/** Records scored per call to the scorer: progress and cancellation get through on long files. */
const CHUNK = 256;

export async function scoreFile(model: string, file: string, options: ScoreFileOptions = {}): Promise<FileScore> {
  const started = Date.now();
  const scorer = options.scorer ?? new OrtScorer(model, options);
  try {
    const m = scorer.manifest;
    const tokenizer = manifestTokenizer(m);
    const data = await loadPreferenceData(
      file,
      tokenizer,
      { maxLen: m.maxLen, routerMaxLen: m.routerMaxLen },
      { schemaFile: options.schemaFile, adapter: options.adapter, signal: options.signal, pairSample: options.pairSample },
    );
    const scores: ModelRecordScore[] = [];
    for (let at = 0; at < data.records.length; at += CHUNK) {
      scores.push(...(await scorer.score(data.records.slice(at, at + CHUNK), options.signal)));
      options.onProgress?.(scores.length, data.records.length);
    }
    const records: FileRecordScore[] = scores.map((s, p) => {
      let agree = 0;
      // Logits, not σ: float32 σ rounds large rewards to 1.0 and would turn ordered pairs into ties.
      for (const pair of data.pairs[p]) if (s.logits[pair.winner] > s.logits[pair.loser]) agree++;
      return { index: data.records[p].index, ...s, datasetCategory: data.categories[p], agreement: { agree, pairs: data.pairs[p].length } };
    });
    const result = agreement(
      m.method,
      data.records.map((_, p) => ({ category: data.categories[p], pairs: data.pairs[p] })),
      (p) => scores[p].logits,
    );
    return {
      model,
      file,
      method: m.method,
      records,
      summary: { ...result, records: records.length, malformed: data.malformed, seconds: (Date.now() - started) / 1000 },
      malformedNote: data.malformedNote,
    };
  } finally {
    if (!options.scorer) await scorer.dispose();
  }
}
