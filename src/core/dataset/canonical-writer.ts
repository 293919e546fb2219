import { AtomicFile, assertNotInput, makeDirs } from '../io/safe-output';
import { dirname } from 'node:path';
import type { Dataset } from './dataset';
import type { PreferenceRecord } from './record';

/** Canonical JSONL: one PreferenceRecord per line, keys in a fixed order (docs/record-model.md). */
export function canonicalLine(record: PreferenceRecord): string {
  const { id, category, context, responses, preference, metadata } = record;
  return JSON.stringify({ id, category, context, responses, preference, metadata });
}

export interface ConvertResult {
  written: number;
  skipped: number;
}

/**
 * Writes every usable record of `dataset` to `out` (through a temporary file: a failure leaves `out` as
 * it was); unusable ones are left out (and were reported by the index).
 */
export function writeCanonical(dataset: Dataset, out: string, signal?: AbortSignal): ConvertResult {
  assertNotInput(out, [dataset.file]);
  // Its folder is made as needed, as for every other output (exports, run folders, label exports).
  makeDirs(dirname(out));
  const file = new AtomicFile(out);
  let written = 0;
  let skipped = 0;
  let pending: string[] = [];
  let pendingBytes = 0;
  const flush = (): void => {
    if (pending.length === 0) return;
    file.write(pending.join(''));
    pending = [];
    pendingBytes = 0;
  };
  try {
    for (let i = 0; i < dataset.size; i++) {
      if (signal?.aborted) throw signal.reason;
      const view = dataset.read(i);
      if (!view.record) {
        skipped++;
        continue;
      }
      const line = canonicalLine(view.record) + '\n';
      pending.push(line);
      pendingBytes += line.length;
      written++;
      if (pendingBytes > 4 * 1024 * 1024) flush();
    }
    flush();
    file.commit();
  } catch (e) {
    file.abort();
    throw e;
  }
  return { written, skipped };
}
