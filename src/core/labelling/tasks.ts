import type { PreferenceRecord } from '../dataset/record';
import type { CapabilityPoint, CategoryPoints } from './points';
import type { Lang } from './templates';
import type { Order } from './verdict';

/**
 * The calls a labelling job makes, enumerated deterministically: for each record, every pair i < j
 * of its responses (C(k,2)), every capability point of its category, both orders, in that nesting —
 * so the two orders of one pair and point are asked one after the other and merge early.
 *
 * Every call has a stable key. A key names what determines the call's answer: the judge (model), the
 * template version and language, whether history is attached, the record's content id, the pair, the
 * point and the order. Resuming skips exactly the keys already in the store.
 */

/** What a stored call was made with; part of every key. */
export interface JudgeSetup {
  model: string;
  templateVersion: string;
  lang: Lang;
  history: boolean;
}

/** `qwen-max|dmoerm-zh-1|zh|h0`: groups the calls (and labels) made under one setup. */
export function setupTag(s: JudgeSetup): string {
  return `${s.model}|${s.templateVersion}|${s.lang}|${s.history ? 'h1' : 'h0'}`;
}

export interface PairTask {
  /** Unique key of this call in the store. */
  key: string;
  /** Key of the (pair, point): shared by both orders. */
  pairKey: string;
  recordIndex: number;
  recordId: string;
  category: string;
  a: number;
  b: number;
  point: CapabilityPoint;
  order: Order;
}

export function pairKeyOf(tag: string, recordId: string, a: number, b: number, pointId: string): string {
  return `${tag}|${recordId}|${a}-${b}|${pointId}`;
}

export function taskKeyOf(pairKey: string, order: Order): string {
  return `${pairKey}|${order}`;
}

export function categoryKeyOf(tag: string, recordId: string): string {
  return `${tag}|${recordId}|category`;
}

export function pairCount(responses: number): number {
  return (responses * (responses - 1)) / 2;
}

/** The calls for one record, in the documented order. */
export function* recordTasks(tag: string, recordIndex: number, record: PreferenceRecord, category: CategoryPoints): Generator<PairTask> {
  const k = record.responses.length;
  for (let a = 0; a < k; a++) {
    for (let b = a + 1; b < k; b++) {
      for (const point of category.points) {
        const pairKey = pairKeyOf(tag, record.id, a, b, point.id);
        for (const order of ['ab', 'ba'] as const) {
          yield { key: taskKeyOf(pairKey, order), pairKey, recordIndex, recordId: record.id, category: category.name, a, b, point, order };
        }
      }
    }
  }
}
