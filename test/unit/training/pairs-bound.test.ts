import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { PreferenceRecord } from '../../../src/core/dataset/record';
import { TextTokenizer } from '../../../src/core/model/tokenizer';
import { loadPreferenceData } from '../../../src/core/training/data';
import type { MergedLabel } from '../../../src/core/labelling/store';
import { capabilityPairs } from '../../../src/core/training/capability-pairs';
import { MAX_RANKED_RESPONSES, humanPairs } from '../../../src/core/training/pairs';
import { train } from '../../../src/core/training/train';

/** Issue 12 item 5: one record with thousands of responses must not take the process down. */

function ranked(k: number): PreferenceRecord {
  return {
    id: 'big',
    context: [{ role: 'user', content: 'q' }],
    responses: Array.from({ length: k }, (_, i) => ({ text: `r${i}` })),
    preference: { ranking: Array.from({ length: k }, (_, i) => i + 1) },
  };
}

const tmp = mkdtempSync(join(tmpdir(), 'rl-pairs-bound-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

void describe('pairs per record', () => {
  void it('10,000 ranked responses give maxPairsPerRecord pairs, a deterministic sample of the 50 million', () => {
    const record = ranked(10_000);
    const a = humanPairs(record, 3, { max: 64, seed: 7 });
    assert.equal(a.pairs.length, 64);
    assert.equal(a.available, (10_000 * 9_999) / 2);
    for (const p of a.pairs) assert.ok(p.record === 3 && p.winner < p.loser && p.loser < 10_000, JSON.stringify(p));
    assert.equal(new Set(a.pairs.map((p) => `${p.winner}-${p.loser}`)).size, 64, 'no pair twice');
    assert.deepEqual(humanPairs(record, 3, { max: 64, seed: 7 }).pairs, a.pairs, 'same seed, same pairs');
    assert.notDeepEqual(humanPairs(record, 3, { max: 64, seed: 8 }).pairs, a.pairs, 'another seed, another sample');
  });

  void it('a record within the bound keeps every pair, in order', () => {
    const r = humanPairs(ranked(5), 0, { max: 64, seed: 1 });
    assert.deepEqual([r.pairs.length, r.available], [10, 10]);
    assert.deepEqual(r.pairs[0], { record: 0, winner: 0, loser: 1 });
  });

  void it('refuses a ranking too long to pair, with a message', () => {
    assert.throws(
      () => humanPairs(ranked(MAX_RANKED_RESPONSES + 1), 0, { max: 64, seed: 1 }),
      /record 1 \(big\): 20001 ranked responses are more than the 20000/,
    );
  });

  void it('loading counts the sampled records and fails with a message past the pairs a run can hold', async () => {
    const file = join(tmp, 'ranked.jsonl');
    const line = (k: number, q: string): string =>
      JSON.stringify({ prompt: q, responses: Array.from({ length: k }, (_, i) => `answer ${i}`), ranking: Array.from({ length: k }, (_, i) => i + 1) });
    writeFileSync(file, `${line(40, 'a')}\n${line(3, 'b')}\n${line(40, 'c')}\n`);
    const limits = { maxLen: 32, routerMaxLen: 32 };
    const data = await loadPreferenceData(file, TextTokenizer.default(), limits, { pairSample: { max: 16, seed: 1 } });
    assert.deepEqual(
      data.pairs.map((p) => p.length),
      [16, 3, 16],
    );
    assert.deepEqual(data.sampled, { records: 2, pairsLeftOut: 2 * (780 - 16), maxPairsPerRecord: 16 });
    await assert.rejects(
      loadPreferenceData(file, TextTokenizer.default(), limits, { pairSample: { max: 16, seed: 1 }, maxPairs: 20 }),
      /more than 20 preference pairs by record 3 of 3, .*lower maxPairsPerRecord \(now 16\)/,
    );
  });

  void it('train samples a record with many responses and says so in train.log and the model card', async () => {
    const file = join(tmp, 'train.jsonl');
    const line = (k: number, q: string): string =>
      JSON.stringify({ prompt: q, responses: Array.from({ length: k }, (_, i) => `answer ${q} ${i}`), ranking: Array.from({ length: k }, (_, i) => i + 1) });
    writeFileSync(file, `${[line(60, 'big'), ...Array.from({ length: 9 }, (_, i) => line(3, `q${i}`))].join('\n')}\n`);
    const out = join(tmp, 'run');
    await train({
      dataset: file,
      method: 'single',
      out,
      preset: 'tiny',
      backend: 'wasm',
      seed: 3,
      overrides: { maxPairsPerRecord: 8, maxSteps: 2, evalEvery: 1, testFraction: 0 },
    });
    assert.match(
      readFileSync(join(out, 'train.log'), 'utf8'),
      /1 record had more than maxPairsPerRecord=8 preference pairs: 8 sampled from each \(seed 3\), 1,762 pairs left out/,
    );
    assert.match(readFileSync(join(out, 'MODEL_CARD.md'), 'utf8'), /1 record gave a sample of 8 of its preference pairs \(maxPairsPerRecord\)/);
  });

  void it('capability labels are bounded per record and point the same way', () => {
    const label = (record: string, a: number, b: number, point = 'logic'): MergedLabel => ({
      key: `${record}|${a}-${b}|${point}`,
      setup: 's',
      record,
      index: 0,
      category: 'c',
      a,
      b,
      point,
      source: 'judge',
      result: 'consistent',
      winner: a,
    });
    const labels: MergedLabel[] = [];
    for (let b = 1; b <= 100; b++) labels.push(label('big', 0, b));
    labels.push(label('small', 0, 1), label('small', 1, 2), label('big', 0, 1, 'style'));
    const byId = new Map([
      ['big', 0],
      ['small', 1],
    ]);
    const leftOut = { pairs: 0 };
    const byPoint = capabilityPairs(labels, byId, { max: 8, seed: 5 }, leftOut);
    const logic = byPoint.get('logic')!;
    assert.equal(logic.filter((p) => p.record === 0).length, 8);
    assert.deepEqual(
      logic.filter((p) => p.record === 1),
      [
        { record: 1, winner: 0, loser: 1 },
        { record: 1, winner: 1, loser: 2 },
      ],
    );
    assert.equal(byPoint.get('style')!.length, 1);
    assert.equal(leftOut.pairs, 92);
    assert.deepEqual(capabilityPairs(labels, byId, { max: 8, seed: 5 }), byPoint, 'same seed, same sample');
  });
});
