import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CATEGORY_OF_TYPE, pairCounts, readLlmeval2, splitByQuestion, writeCanonicalFile } from '../../../bench/llmeval2-data';
import { Dataset } from '../../../src/core/dataset/dataset';

interface Row {
  question_uuid: string;
  dialog_uuid: string;
  llm_name: string;
  dialog: Array<{ role: string; content: string }>;
  hint: string;
  type: string;
  stars: Record<string, number>;
}

const MODELS = ['m0', 'm1', 'm2', 'm3'];

function row(subject: string, q: number, m: number, type: 'A' | 'B', stars: Record<string, number>): Row {
  return {
    question_uuid: `${subject}_${q}`,
    dialog_uuid: `${MODELS[m]}_${subject}_${q}`,
    llm_name: MODELS[m],
    dialog: [
      { role: 'user', content: `${subject} question ${q}?` },
      { role: 'llm', content: `answer of ${MODELS[m]} to ${subject} ${q}` + ' …'.repeat(m) },
    ],
    hint: `hint ${q}`,
    type,
    stars,
  };
}

/** Objective stars: Correctness 0-3, Explanation Correctness 0-2, varied by question and model. */
function starsA(q: number, m: number): Record<string, number> {
  return { Correctness: (q + m) % 4, 'Explanation Correctness': (q * m) % 3 };
}

function starsB(q: number, m: number): Record<string, number> {
  return { Accuracy: (q + 2 * m) % 6, Informativeness: m % 4, Fluency: 2, Logicality: (q + m) % 4 };
}

const root = mkdtempSync(join(tmpdir(), 'rl-llmeval2-'));
after(() => rmSync(root, { recursive: true, force: true }));

/**
 * Two subjects: Alpha (type A, 6 questions × 3 responses) and Beta (type B, 4 questions × 4). The GPT-4
 * side misses one row and has one the human side lacks; the human side repeats one row and has one
 * malformed row, and one answer that is a JSON boolean. Alpha_0's human stars are set by hand so that two of its responses tie.
 */
function writeSynthetic(dir: string): void {
  const human: Record<string, Row[]> = { Alpha: [], Beta: [] };
  const gpt: Record<string, Row[]> = { Alpha: [], Beta: [] };
  for (let q = 0; q < 6; q++)
    for (let m = 0; m < 3; m++) {
      human.Alpha.push(row('Alpha', q, m, 'A', starsA(q, m)));
      gpt.Alpha.push(row('Alpha', q, m, 'A', starsA(q + 1, m)));
    }
  for (let q = 0; q < 4; q++)
    for (let m = 0; m < 4; m++) {
      human.Beta.push(row('Beta', q, m, 'B', starsB(q, m)));
      gpt.Beta.push(row('Beta', q, m, 'B', starsB(q, m + 1)));
    }
  // Alpha_0: totals 3, 1, 3 → ranks 1, 2, 1 (responses 0 and 2 tie).
  human.Alpha[0].stars = { Correctness: 2, 'Explanation Correctness': 1 };
  human.Alpha[1].stars = { Correctness: 1, 'Explanation Correctness': 0 };
  human.Alpha[2].stars = { Correctness: 3, 'Explanation Correctness': 0 };
  gpt.Alpha = gpt.Alpha.filter((r) => r.dialog_uuid !== 'm1_Alpha_3');
  // llmeval2 stores some true/false answers as JSON booleans.
  (human.Beta[3].dialog[1] as { content: unknown }).content = true;
  gpt.Beta.push(row('Beta', 9, 0, 'B', starsB(9, 0)));
  human.Beta.push(human.Beta[5]);
  human.Beta.push({ ...row('Beta', 8, 0, 'B', starsB(8, 0)), dialog: [{ role: 'user', content: 'no answer' }] });
  for (const side of ['human-score', 'gpt-score'] as const) {
    mkdirSync(join(dir, side), { recursive: true });
    const rows = side === 'human-score' ? human : gpt;
    for (const [subject, list] of Object.entries(rows)) writeFileSync(join(dir, side, `${subject}_data.json`), JSON.stringify(list));
  }
}

const folder = join(root, 'synthetic');
writeSynthetic(folder);

void describe('llmeval2 data preparation', () => {
  void test('aligns human and GPT-4 rows by dialog_uuid and counts every row it could not use', () => {
    const { records, report } = readLlmeval2(folder);
    assert.deepEqual(report.subjects, ['Alpha', 'Beta']);
    assert.equal(report.humanRows, 6 * 3 + 4 * 4);
    assert.equal(report.gptRows, 6 * 3 - 1 + 4 * 4 + 1);
    assert.equal(report.missingGpt, 1);
    assert.deepEqual(report.examples.missingGpt, ['m1_Alpha_3']);
    assert.equal(report.missingHuman, 1);
    assert.deepEqual(report.examples.missingHuman, ['m0_Beta_9']);
    assert.equal(report.duplicateRows, 1);
    assert.equal(report.malformedRows, 1);
    assert.equal(report.nonTextContent, 1);
    assert.deepEqual(report.examples.nonTextContent, ['m3_Beta_0']);
    assert.equal(records.find((r) => r.metadata?.question_uuid === 'Beta_0')!.responses[3].text, 'true');
    assert.equal(report.aligned, report.humanRows - report.missingGpt);
    assert.equal(records.length, 10);

    const alpha3 = records.find((r) => r.metadata?.question_uuid === 'Alpha_3')!;
    const sources = alpha3.responses.map((r) => [...new Set((r.ratings ?? []).map((x) => x.source))].join(','));
    assert.deepEqual(sources, ['human,gpt-4', 'human', 'human,gpt-4']);
    // GPT-4 stars come from the GPT-4 row of the same dialog, not the human one.
    const gptCorrectness = alpha3.responses[0].ratings!.find((x) => x.source === 'gpt-4' && x.aspect === 'Correctness')!.value;
    assert.equal(gptCorrectness, starsA(4, 0).Correctness);
  });

  void test('one record per question: prompt, responses with their model, ranking by total human stars with ties', () => {
    const { records } = readLlmeval2(folder);
    const alpha0 = records[0];
    assert.equal(alpha0.metadata?.question_uuid, 'Alpha_0');
    assert.deepEqual(alpha0.context, [{ role: 'user', content: 'Alpha question 0?' }]);
    assert.deepEqual(
      alpha0.responses.map((r) => r.model),
      ['m0', 'm1', 'm2'],
    );
    assert.equal(alpha0.responses[1].text, 'answer of m1 to Alpha 0 …');
    assert.deepEqual(alpha0.preference?.ranking, [1, 2, 1]);
    assert.deepEqual(pairCounts([alpha0]), { pairs: 2, ties: 1 });
    for (const r of records) {
      const totals = r.responses.map((x) => x.ratings!.filter((y) => y.source === 'human').reduce((s, y) => s + y.value, 0));
      const ranking = r.preference!.ranking!;
      for (let i = 0; i < totals.length; i++)
        for (let j = 0; j < totals.length; j++)
          assert.equal(Math.sign(ranking[j] - ranking[i]), Math.sign(totals[i] - totals[j]), `${String(r.metadata?.question_uuid)} ${i} ${j}`);
    }
  });

  void test('categories from the question type', () => {
    const { records } = readLlmeval2(folder);
    const byCategory = new Map<string, number>();
    for (const r of records) byCategory.set(r.category!, (byCategory.get(r.category!) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries(byCategory), { [CATEGORY_OF_TYPE.A]: 6, [CATEGORY_OF_TYPE.B]: 4 });
    assert.equal(CATEGORY_OF_TYPE.A, 'objective knowledge QA');
    assert.equal(CATEGORY_OF_TYPE.B, 'subjective knowledge QA');
  });

  void test('the canonical file reads back unchanged, with the ids the engine computes and no problems', async () => {
    const { records } = readLlmeval2(folder);
    const file = join(root, 'all.jsonl');
    writeCanonicalFile(file, records);
    const dataset = await Dataset.open(file);
    try {
      assert.equal(dataset.report.adapter, 'canonical');
      assert.equal(dataset.size, records.length);
      assert.equal(dataset.report.malformed, 0);
      assert.equal(dataset.report.preferencePairs, pairCounts(records).pairs);
      assert.equal(dataset.report.tiedPairs, pairCounts(records).ties);
      for (let i = 0; i < dataset.size; i++) {
        const view = dataset.read(i);
        assert.deepEqual(view.problems, []);
        assert.deepEqual(view.record, records[i]);
      }
    } finally {
      dataset.close();
    }
  });

  void test('splits by question, never by row: ~20% of questions, deterministic by seed', () => {
    const big = join(root, 'big');
    const human: Row[] = [];
    for (let q = 0; q < 50; q++) for (let m = 0; m < 4; m++) human.push(row('Gamma', q, m, q % 2 ? 'A' : 'B', q % 2 ? starsA(q, m) : starsB(q, m)));
    mkdirSync(join(big, 'human-score'), { recursive: true });
    mkdirSync(join(big, 'gpt-score'), { recursive: true });
    writeFileSync(join(big, 'human-score', 'Gamma_data.json'), JSON.stringify(human));
    writeFileSync(join(big, 'gpt-score', 'Gamma_data.json'), JSON.stringify(human));
    const data = readLlmeval2(big);

    const a = splitByQuestion(data, 7);
    const question = (r: { metadata?: Record<string, unknown> }): string => String(r.metadata?.question_uuid);
    assert.equal(a.test.length, 10);
    assert.equal(a.train.length + a.test.length, 50);
    const trainQ = new Set(a.train.map(question));
    assert.ok(a.test.every((r) => !trainQ.has(question(r))));
    assert.ok(
      a.test.every((r) => r.responses.length === 4),
      'every test question keeps all its responses',
    );

    const again = splitByQuestion(readLlmeval2(big), 7);
    assert.deepEqual(again.test.map(question), a.test.map(question));
    const others = [1, 2, 3, 4].map((s) => splitByQuestion(data, s).test.map(question).join());
    assert.ok(
      others.some((t) => t !== a.test.map(question).join()),
      'another seed gives another split',
    );
  });
});
