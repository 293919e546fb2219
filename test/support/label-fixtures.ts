import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Small preference datasets for labelling tests, in DMoERM's own shape `{src, tgt, response, rank, label}`. */

export interface FixtureRecord {
  /** User turns; the last is the query. */
  src: string[];
  /** Assistant turns between them. */
  tgt?: string[];
  response: string[];
  label?: string;
  rank?: number[];
}

export function tempDir(prefix = 'rl-label-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeDataset(dir: string, records: FixtureRecord[], name = 'data.jsonl'): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    records
      .map((r) =>
        JSON.stringify({
          src: r.src,
          tgt: r.tgt ?? [],
          response: r.response,
          rank: r.rank ?? r.response.map((_, i) => i + 1),
          ...(r.label ? { label: r.label } : {}),
        }),
      )
      .join('\n') + '\n',
  );
  return file;
}

/** `n` records of `k` responses each, categories cycling through `labels`. */
export function syntheticRecords(n: number, k: number, labels: (string | undefined)[] = ['闲聊']): FixtureRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    src: [`问题${i}：请介绍一下第${i}个话题。`],
    response: Array.from({ length: k }, (_, j) => `第${i}题的回答${j}：内容 ${'好'.repeat((i * 7 + j * 3) % 11)}。`),
    label: labels[i % labels.length],
  }));
}
