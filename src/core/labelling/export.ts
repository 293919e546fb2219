import { AtomicFile, assertNotInput, makeDirs } from '../io/safe-output';
import { dirname } from 'node:path';
import type { Dataset } from '../dataset/dataset';
import { RecordLookup } from './records';
import type { StoreContents } from './store';
import { assertNotLabelStore, mergedLabels } from './store';
import { splitContext } from './templates';

/**
 * Export of the kept labels in the shape DMoERM's reference code trains its capability experts on
 * (`points.jsonl`): `{query, responses: [r1, r2], rank, point}`, one line per label, where `rank` is
 * `[1, 2]` when the first response is better and `[2, 1]` otherwise (lower is better, as its training
 * code reads it) and `query` is the final user turn (the reference code's `src[-1]`). Inconsistent,
 * invalid and tied labels are not exported.
 */

export interface ExportOptions {
  /** Only labels of this source (`judge`, `ratings:gpt-4`); default all. */
  source?: string;
  /** Only this judge setup. */
  setup?: string;
}

export interface ExportSummary {
  out: string;
  written: number;
  /** Labels whose record is no longer in the dataset (changed content): left out. */
  missingRecords: number;
}

export function exportPointsJsonl(c: StoreContents, dataset: Dataset, out: string, options: ExportOptions = {}): ExportSummary {
  // The save dialog and --export can both name the dataset or a store: never replace one.
  assertNotInput(out, [dataset.file, c.file]);
  assertNotLabelStore(out);
  const lookup = new RecordLookup(dataset);
  makeDirs(dirname(out));
  const file = new AtomicFile(out);
  let written = 0;
  let missingRecords = 0;
  try {
    for (const label of mergedLabels(c)) {
      if (label.result !== 'consistent' || label.winner === null) continue;
      if (options.source && label.source !== options.source) continue;
      if (options.setup && label.setup !== options.setup) continue;
      const record = lookup.get(label.index, label.record);
      if (!record) {
        missingRecords++;
        continue;
      }
      const line = {
        query: splitContext(record.context).query,
        responses: [record.responses[label.a].text, record.responses[label.b].text],
        rank: label.winner === label.a ? [1, 2] : [2, 1],
        point: label.point,
      };
      file.write(`${JSON.stringify(line)}\n`);
      written++;
    }
    file.commit();
  } catch (e) {
    file.abort();
    throw e;
  }
  return { out, written, missingRecords };
}
