import type { Dataset } from './dataset';
import { promptKeyHash } from './record-id';

/**
 * Prompt overlap between two files (train/test leakage): records of `test` whose conversation
 * context also occurs in `train`, compared by content hash so format differences do not hide it.
 */
export interface OverlapReport {
  trainRecords: number;
  testRecords: number;
  /** Test records whose prompt occurs in the training file. */
  overlapping: number;
  share: number;
  /** First overlaps, for a person to check. */
  examples: { testLine: number; trainLine: number }[];
}

export function promptOverlap(train: Dataset, test: Dataset, maxExamples = 20): OverlapReport {
  const trainPrompts = new Map<string, number>();
  let trainRecords = 0;
  for (let i = 0; i < train.size; i++) {
    const view = train.read(i);
    if (!view.record) continue;
    trainRecords++;
    const key = promptKeyHash(view.record.context);
    if (!trainPrompts.has(key)) trainPrompts.set(key, view.line);
  }
  let testRecords = 0;
  let overlapping = 0;
  const examples: OverlapReport['examples'] = [];
  for (let i = 0; i < test.size; i++) {
    const view = test.read(i);
    if (!view.record) continue;
    testRecords++;
    const trainLine = trainPrompts.get(promptKeyHash(view.record.context));
    if (trainLine === undefined) continue;
    overlapping++;
    if (examples.length < maxExamples) examples.push({ testLine: view.line, trainLine });
  }
  return { trainRecords, testRecords, overlapping, share: testRecords ? overlapping / testRecords : 0, examples };
}
