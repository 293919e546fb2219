import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Dataset } from '../../../src/core/dataset/dataset';
import { exportPointsJsonl } from '../../../src/core/labelling/export';
import { labelsFromRatings } from '../../../src/core/labelling/from-ratings';
import { defaultPointsConfig } from '../../../src/core/labelling/points';
import { buildReport } from '../../../src/core/labelling/report';
import type { CallLine } from '../../../src/core/labelling/store';
import { LabelStore, readStore } from '../../../src/core/labelling/store';
import { tempDir } from '../../support/label-fixtures';

/** Pointwise rows grouped by question (llmeval2-like) in ranked-n shape, with ratings by two sources. */
function writeRated(dir: string): string {
  const file = join(dir, 'rated.jsonl');
  const rows = [
    {
      question: '日心说是谁提出的？',
      category: 'objective knowledge QA',
      answers: [
        { text: '哥白尼', ratings: { human: { Correctness: 3, Fluency: 2 }, 'gpt-4': { Correctness: 3, Logicality: 1 } } },
        { text: '牛顿', ratings: { human: { Correctness: 1, Fluency: 2 }, 'gpt-4': { Correctness: 1, Logicality: 1 } } },
        { text: '不知道', ratings: { human: { Correctness: 0 }, 'gpt-4': { Correctness: 2 } } },
      ],
    },
  ];
  const canonical = rows.map((r, i) => ({
    id: `000000000000000${i}`,
    context: [{ role: 'user', content: r.question }],
    category: r.category,
    responses: r.answers.map((a) => ({
      text: a.text,
      ratings: Object.entries(a.ratings).flatMap(([source, rs]: [string, Record<string, number>]) =>
        Object.entries(rs).map(([aspect, value]) => ({ aspect, value, source })),
      ),
    })),
    preference: { ranking: [1, 2, 3] },
  }));
  writeFileSync(file, canonical.map((c) => JSON.stringify(c)).join('\n') + '\n');
  return file;
}

void describe('labels from ratings, report, export', () => {
  void it("derives pairwise point labels from one source's ratings: higher wins, equal is a tie", async () => {
    const dir = tempDir();
    const dataset = await Dataset.open(writeRated(dir));
    try {
      assert.equal(dataset.read(0).record?.responses.length, 3, JSON.stringify(dataset.read(0).problems));
      const store = join(dir, 's.jsonl');
      const s = labelsFromRatings({ dataset, store, source: 'gpt-4', points: defaultPointsConfig() });
      // Correctness: 3 pairs, all decided; Logicality (→ logic): 1 pair, tied.
      assert.deepEqual([s.written, s.decided, s.ties], [4, 3, 1]);
      assert.deepEqual(s.byPoint, { correctness: 3, logic: 1 });
      const c = readStore(store);
      const byKey = Object.fromEntries([...c.labels.values()].map((l) => [`${l.point}:${l.a}-${l.b}`, [l.result, l.winner]]));
      assert.deepEqual(byKey, {
        'correctness:0-1': ['consistent', 0],
        'correctness:0-2': ['consistent', 0],
        'correctness:1-2': ['consistent', 2],
        'logic:0-1': ['tie', null],
      });

      // Report: per point, with agreement against the human stars of the same aspect and the human ranking.
      const report = buildReport(c, { dataset });
      const correctness = report.rows.find((r) => r.point === 'correctness')!;
      assert.deepEqual([correctness.source, correctness.asked, correctness.kept, correctness.ties], ['ratings:gpt-4', 3, 3, 0]);
      // Human Correctness: 0 > 1 > 2; gpt-4 says 2 beats 1 → 2 of 3 agree.
      assert.deepEqual(correctness.humanAspect, { n: 3, agree: 2, rate: 2 / 3 });
      assert.deepEqual(correctness.humanOverall, { n: 3, agree: 2, rate: 2 / 3 });
      const logic = report.rows.find((r) => r.point === 'logic')!;
      assert.deepEqual([logic.asked, logic.kept, logic.ties], [1, 0, 1]);

      // Export: DMoERM's points.jsonl, kept labels only, rank [1,2] when the first response wins.
      const out = exportPointsJsonl(c, dataset, join(dir, 'points.jsonl'));
      assert.equal(out.written, 3);
      const lines = readFileSync(join(dir, 'points.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as unknown);
      assert.deepEqual(lines[0], { query: '日心说是谁提出的？', responses: ['哥白尼', '牛顿'], rank: [1, 2], point: 'correctness' });
      assert.deepEqual(lines[2], { query: '日心说是谁提出的？', responses: ['牛顿', '不知道'], rank: [2, 1], point: 'correctness' });

      // Human ratings as the source work the same way; a second run writes nothing new.
      assert.equal(labelsFromRatings({ dataset, store, source: 'gpt-4', points: defaultPointsConfig() }).written, 0);
      const none = labelsFromRatings({ dataset, store, source: 'gpt4', points: defaultPointsConfig() });
      assert.equal(none.recordsWithRatings, 0);
      assert.deepEqual(Object.keys(none.sourcesSeen).sort(), ['gpt-4', 'human']);
    } finally {
      dataset.close();
    }
  });

  void it('reports judge calls: pending pairs, position bias, inconsistent and invalid', () => {
    const dir = tempDir();
    const file = join(dir, 'r.jsonl');
    const store = LabelStore.open(file);
    const call = (pair: string, order: 'ab' | 'ba', verdict: 1 | 2 | null): CallLine => ({
      type: 'call',
      key: `${pair}|${order}`,
      pairKey: pair,
      setup: 's',
      record: 'r',
      index: 0,
      category: 'chitchat',
      a: 0,
      b: 1,
      point: pair.split(':')[0],
      order,
      provider: 'p',
      model: 'm',
      template: 't',
      lang: 'zh',
      history: false,
      reply: String(verdict),
      verdict,
      winner: null,
      promptTokens: 10,
      completionTokens: 1,
      tokensEstimated: false,
      ms: 1,
      ts: '',
    });
    store.append(call('empathy:1', 'ab', 1));
    store.append(call('empathy:1', 'ba', 2)); // consistent: response 0
    store.append(call('empathy:2', 'ab', 1));
    store.append(call('empathy:2', 'ba', 1)); // inconsistent
    store.append(call('empathy:3', 'ab', null));
    store.append(call('empathy:3', 'ba', 2)); // invalid
    store.append(call('empathy:4', 'ab', 2)); // pending
    store.close();
    const r = buildReport(readStore(file));
    assert.deepEqual(
      r.rows.map(({ asked, consistent, inconsistent, invalid, kept, pending, firstPosition }) => ({
        asked,
        consistent,
        inconsistent,
        invalid,
        kept,
        pending,
        firstPosition,
      })),
      [{ asked: 3, consistent: 1, inconsistent: 1, invalid: 1, kept: 1, pending: 1, firstPosition: 3 / 6 }],
    );
    assert.equal(r.calls, 7);
    assert.equal(r.promptTokens, 70);
  });
});
