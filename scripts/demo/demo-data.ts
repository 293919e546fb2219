/**
 * The demo model's data (models/demo/MODEL_CARD.md): three task categories from permissively licensed
 * preference sets in ../shared/data, one canonical JSONL, split by prompt into train and test.
 *
 * - objective knowledge QA — FineGrainedRLHF QA-Feedback (Apache-2.0): four model answers per question,
 *   six human pairwise preferences between them, and human fine-grained feedback on answer 1 (typed
 *   error spans, missing information, and a human-corrected answer). The corrected answer is added as a
 *   fifth response; answer 1 and the correction carry `human-feedback` ratings per capability point
 *   (minus the number of errors of that kind, the correction 0), so `labels-from-ratings` turns the
 *   feedback into capability labels — the paper's LLM-judge labels, here given by people.
 * - harmless dialogue — Anthropic HH-RLHF harmless-base test (MIT), no capability labels.
 * - zh instructions — MedicalGPT dpo_zh_500 (Apache-2.0), Chinese, no capability labels.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Dataset } from '../../src/core/dataset/dataset';
import type { PreferenceRecord, Rating, Response } from '../../src/core/dataset/record';
import { recordId } from '../../src/core/dataset/record-id';

/** FineGrainedRLHF's error types grouped as its three fine-grained reward models are (Wu et al. 2023, §3). */
export const FEEDBACK_POINTS: Record<string, string> = {
  Irrelevant: 'relevance',
  Redundant: 'relevance',
  Incoherent: 'relevance',
  'Wrong-Grounding': 'factuality',
  Unverifiable: 'factuality',
  'Missing-Answer': 'completeness',
  'Missing-Major-Auxiliary': 'completeness',
  'Missing-Minor-Auxiliary': 'completeness',
};
const POINTS = ['relevance', 'factuality', 'completeness'];
const RATING_SOURCE = 'human-feedback';

interface FeedbackRecord {
  question: string;
  'prediction 1': string;
  'prediction 2': string;
  'prediction 3': string;
  'prediction 4': string;
  feedback: { errors: Array<{ 'error type': string }>; 'missing-info': Array<{ 'error type': string }>; 'corrected-prediction'?: string };
  /** Verdicts on (1,2) (1,3) (1,4) (2,3) (2,4) (3,4): 1 first better, 2 second, 0 no preference. */
  preference: number[];
}

const PAIR_ORDER: Array<[number, number]> = [
  [0, 1],
  [0, 2],
  [0, 3],
  [1, 2],
  [1, 3],
  [2, 3],
];

function withId(r: Omit<PreferenceRecord, 'id'>): PreferenceRecord {
  return { id: recordId(r), ...r };
}

export function feedbackRecords(file: string): PreferenceRecord[] {
  const rows = JSON.parse(readFileSync(file, 'utf8')) as FeedbackRecord[];
  return rows.map((row, i) => {
    const counts = new Map(POINTS.map((p) => [p, 0]));
    for (const e of [...row.feedback.errors, ...row.feedback['missing-info']]) {
      const point = FEEDBACK_POINTS[e['error type']];
      if (point === undefined) throw new Error(`${file}: record ${i + 1}: unknown error type '${e['error type']}'`);
      counts.set(point, counts.get(point)! + 1);
    }
    const rate = (value: (p: string) => number): Rating[] => POINTS.map((p) => ({ aspect: p, value: value(p), source: RATING_SOURCE }));
    const responses: Response[] = [1, 2, 3, 4].map((k) => ({ text: row[`prediction ${k}` as keyof FeedbackRecord] as string }));
    const corrected = row.feedback['corrected-prediction']?.trim();
    if (corrected) {
      responses[0].ratings = rate((p) => -counts.get(p)!);
      responses.push({ text: corrected, model: 'human correction of response 1', ratings: rate(() => 0) });
    }
    const pairs = PAIR_ORDER.map(([a, b], k) => ({ a, b, winner: row.preference[k] === 1 ? a : row.preference[k] === 2 ? b : null }));
    return withId({
      category: 'objective knowledge QA',
      context: [{ role: 'user', content: row.question }],
      responses,
      preference: { pairs },
      metadata: { source: 'FineGrainedRLHF qa_feedback dev_feedback.json', row: i + 1 },
    });
  });
}

/** The first `limit` usable records of a file any adapter reads, re-categorised. */
async function adapted(file: string, category: string, limit: number): Promise<PreferenceRecord[]> {
  const dataset = await Dataset.open(file);
  try {
    const out: PreferenceRecord[] = [];
    for (let i = 0; i < dataset.size && out.length < limit; i++) {
      const { record } = dataset.read(i);
      if (record === undefined || record.responses.length < 2 || record.preference === undefined) continue;
      out.push({ ...record, category, metadata: { source: file.split('/').slice(-2).join('/'), row: i + 1 } });
    }
    return out;
  } finally {
    dataset.close();
  }
}

/** Train/test by prompt (the same question never on both sides), stable across runs: a hash decides. */
function isTest(r: PreferenceRecord, testShare: number): boolean {
  const prompt = JSON.stringify(r.context);
  return createHash('sha256').update(prompt).digest().readUInt32BE(0) / 2 ** 32 < testShare;
}

export async function writeDemoData(
  shared: string,
  trainOut: string,
  testOut: string,
): Promise<{ train: number; test: number; byCategory: Record<string, number> }> {
  const records = [
    ...feedbackRecords(`${shared}/finegrained-rlhf-qa/dev_feedback.json`),
    ...(await adapted(`${shared}/hh-rlhf-harmless/test.jsonl`, 'harmless dialogue', 600)),
    ...(await adapted(`${shared}/zh-pairs/medicalgpt_dpo_zh_500.jsonl`, 'zh instructions', 500)),
  ];
  const byCategory: Record<string, number> = {};
  for (const r of records) byCategory[r.category!] = (byCategory[r.category!] ?? 0) + 1;
  const train = records.filter((r) => !isTest(r, 0.2));
  const test = records.filter((r) => isTest(r, 0.2));
  writeFileSync(trainOut, train.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(testOut, test.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return { train: train.length, test: test.length, byCategory };
}
