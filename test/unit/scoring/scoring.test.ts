import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import { OnnxUsageError, parseExportArgs } from '../../../src/cli/export';
import { parseScoreArgs, scoreCommand } from '../../../src/cli/score';
import { FileError } from '../../../src/core/io/file-error';
import { exportRun } from '../../../src/core/export/export';
import { readManifest } from '../../../src/core/export/manifest';
import { TextTokenizer } from '../../../src/core/model/tokenizer';
import type { FileScore } from '../../../src/core/scoring/score-file';
import { scoreFile } from '../../../src/core/scoring/score-file';
import { OrtScorer, ScoreCache } from '../../../src/core/scoring/session';
import type { PreferenceData } from '../../../src/core/training/data';
import { loadPreferenceData } from '../../../src/core/training/data';
import { evaluateRun, train } from '../../../src/core/training/train';
import { writeLabelledSyntheticPreferences, writeSyntheticPreferences } from '../../support/synthetic-prefs';
import { PARITY_STEPS } from '../../support/tiny-model';

const dir = mkdtempSync(join(tmpdir(), 'rl-score-'));
const testFile = join(dir, 'test.jsonl');
const model = join(dir, 'dmoerm.onnx');
const runDir = join(dir, 'dmoerm');
let data: PreferenceData;

/** What `rewardlens score … --json` prints, through the command itself. */
async function scoreJson(t: TestContext, argv: string[]): Promise<FileScore> {
  const printed: string[] = [];
  t.mock.method(console, 'log', (line: string) => printed.push(line));
  const code = await scoreCommand(argv);
  t.mock.restoreAll();
  assert.equal(code, 0);
  assert.equal(printed.length, 1, 'one JSON line on stdout');
  return JSON.parse(printed[0]) as FileScore;
}

void describe('scoring with an exported model (onnxruntime-node)', () => {
  before(async () => {
    const trainFile = join(dir, 'train.jsonl');
    writeSyntheticPreferences(testFile, 40, 22);
    const labels = join(dir, 'train.labels.jsonl');
    await writeLabelledSyntheticPreferences(trainFile, labels, 120, 21);
    await train({ dataset: trainFile, labels, method: 'dmoerm', out: runDir, preset: 'tiny', backend: 'wasm', seed: 5, overrides: PARITY_STEPS });
    exportRun(runDir, model);
    const m = readManifest(model);
    data = await loadPreferenceData(testFile, TextTokenizer.fromFile(join(dir, m.tokenizer)), m);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  void test("score --json: per record category, rewards, capability scores and agreement; summary accuracy equals eval's", async (t) => {
    const result = await scoreJson(t, [model, testFile, '--json', '--threads', '1', '--batch', '16']);
    const evaluation = await evaluateRun(runDir, testFile, { backend: 'wasm' });
    assert.equal(result.method, 'dmoerm');
    assert.equal(result.records.length, data.records.length);
    assert.equal(result.summary.overall, evaluation.overall);
    assert.equal(result.summary.pairs, evaluation.pairs);
    assert.deepEqual(result.summary.byCategory, evaluation.byCategory);
    const manifest = readManifest(model);
    let agree = 0;
    result.records.forEach((r, p) => {
      assert.equal(r.index, data.records[p].index);
      assert.equal(r.id, data.records[p].id);
      assert.equal(r.datasetCategory, data.categories[p]);
      assert.equal(r.rewards.length, data.records[p].responses.length);
      assert.ok(
        r.rewards.every((x) => x >= 0 && x <= 1),
        `rewards ${r.rewards.join(', ')}`,
      ); // σ saturates to 0 or 1 in float32
      assert.ok(manifest.categories.includes(r.category!), r.category);
      assert.equal(r.probabilities!.length, 2);
      assert.ok(Math.abs(r.probabilities![0] + r.probabilities![1] - 1) < 1e-5);
      assert.deepEqual(
        r.capabilities!.map((c) => c.point),
        manifest.capabilities.filter((c) => c.category === r.category).map((c) => c.point),
      );
      for (const c of r.capabilities!) assert.equal(c.scores.length, r.rewards.length);
      assert.equal(r.agreement.pairs, data.pairs[p].length);
      assert.equal(r.agreement.agree, data.pairs[p].filter((pair) => r.rewards[pair.winner] > r.rewards[pair.loser]).length);
      agree += r.agreement.agree;
    });
    assert.equal(agree / result.summary.pairs, result.summary.overall);
  });

  void test('the session is created on first use, and a cache hit scores without running it again', async () => {
    const cache = new ScoreCache();
    const scorer = new OrtScorer(model, { cache, batchSize: 16 });
    try {
      assert.equal(scorer.loaded, false);
      const first = await scorer.score(data.records);
      assert.equal(scorer.loaded, true);
      const runs = scorer.runs;
      assert.ok(runs >= 2, `${runs} runs`);
      const second = await scorer.score(data.records);
      assert.equal(scorer.runs, runs, 'no session run for cached records');
      assert.deepEqual(second, first);
      assert.equal(cache.hits, data.records.length);
      // Another scorer of the same model shares the cache: reopening keeps the scores.
      const again = new OrtScorer(model, { cache });
      await again.score(data.records.slice(0, 5));
      assert.equal(again.runs, 0);
      assert.equal(again.loaded, false);
      // The same id with other tokens (an edited record) is scored anew.
      const edited = { ...data.records[0], responses: data.records[0].responses.map((s) => ({ ids: s.ids.slice(0, -2), typeIds: s.typeIds.slice(0, -2) })) };
      await scorer.score([edited]);
      assert.equal(scorer.runs, runs + 1);
    } finally {
      await scorer.dispose();
    }
  });

  void test("cancellation stops between batches with the signal's reason; finished batches stay cached", async () => {
    const scorer = new OrtScorer(model, { batchSize: 6 });
    try {
      const before = new AbortController();
      before.abort(new Error('cancelled before'));
      await assert.rejects(scorer.score(data.records, before.signal), /cancelled before/);
      assert.equal(scorer.loaded, false, 'nothing loaded for a cancelled request');
      const during = new AbortController();
      await assert.rejects(
        scorer.score(data.records, during.signal, () => during.abort(new Error('cancelled during'))),
        /cancelled during/,
      );
      assert.equal(scorer.runs, 1, 'stopped after the first batch');
      assert.ok(scorer.cache.size > 0 && scorer.cache.size < data.records.length, `${scorer.cache.size} cached`);
      await scorer.score(data.records);
      assert.ok(scorer.runs < 1 + Math.ceil((data.records.length * 3) / 6), 'the rerun skips what the cancelled one scored');
    } finally {
      await scorer.dispose();
    }
    const controller = new AbortController();
    controller.abort(new Error('file cancelled'));
    await assert.rejects(scoreFile(model, testFile, { signal: controller.signal }), /file cancelled/);
  });

  void test('intra-op threads and batch size are checked; one thread scores the same as the default', async () => {
    assert.throws(() => new OrtScorer(model, { intraOpNumThreads: -1 }), /intra-op threads must be a non-negative integer/);
    assert.throws(() => new OrtScorer(model, { batchSize: 0 }), /batch size must be a positive integer/);
    const one = new OrtScorer(model, { intraOpNumThreads: 1 });
    const all = new OrtScorer(model);
    try {
      const a = await one.score(data.records.slice(0, 10));
      const b = await all.score(data.records.slice(0, 10));
      a.forEach((s, i) => s.rewards.forEach((x, j) => assert.ok(Math.abs(x - b[i].rewards[j]) < 1e-5)));
    } finally {
      await one.dispose();
      await all.dispose();
    }
  });

  void test('a model without its manifest, and bad command lines, fail with the file and the reason', () => {
    assert.throws(() => new OrtScorer(join(dir, 'missing.onnx')), /missing\.manifest\.json: manifest not found/);
    const usage = (f: () => unknown, re: RegExp): void =>
      assert.throws(f, (e: Error) => (e instanceof OnnxUsageError || e instanceof FileError) && re.test(e.message) && !e.message.includes('\n'));
    usage(() => parseScoreArgs([model]), /usage: rewardlens score MODEL\.onnx FILE/);
    usage(() => parseScoreArgs([join(dir, 'nope.onnx'), testFile]), /nope\.onnx: no such file/);
    usage(() => parseScoreArgs([model, testFile, '--threads', '0']), /--threads must be an integer from 1 to 256, not "0"/);
    usage(() => parseScoreArgs([model, testFile, '--batch', 'x']), /--batch must be an integer/);
    usage(() => parseExportArgs([runDir]), /export needs --out MODEL\.onnx/);
    usage(() => parseExportArgs([runDir, '--out', join(dir, 'm.bin')]), /must end in \.onnx/);
    usage(() => parseExportArgs([runDir, '--out', join(dir, 'no', 'm.onnx')]), /folder .* does not exist/);
    usage(() => parseExportArgs([testFile, '--out', model]), /is a file, not a folder/);
    usage(() => parseExportArgs([runDir, '--out', join(testFile, 'm.onnx')]), /is a file, not a folder/);
    assert.deepEqual(parseScoreArgs([model, testFile, '--threads', '2', '--json']), {
      help: false,
      model,
      file: testFile,
      json: true,
      threads: 2,
      batch: undefined,
      schemaFile: undefined,
      adapter: undefined,
    });
  });
});
