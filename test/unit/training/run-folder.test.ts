import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { agreement } from '../../../src/core/training/evaluate';
import type { ModelCardInfo } from '../../../src/core/training/model-card';
import { renderModelCard } from '../../../src/core/training/model-card';
import { judgedRecords, longerWins } from '../../../src/core/training/references';
import type { MetricLine } from '../../../src/core/training/run-folder';
import { configHash, listRuns, RunFolder } from '../../../src/core/training/run-folder';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'rl-run-'));

const config = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  options: { dataset: 'data.jsonl', method: 'dmoerm', preset: 'tiny', seed: 1, maxMinutes: 30, backend: 'auto', out: 'runs/a' },
  hyper: { lr: 1e-4, batch: 16, patience: 5 },
  datasetHash: 'abc123',
  versions: { rewardlens: '0.1.0' },
  ...over,
});

const metric = (step: number): MetricLine => ({ ts: '2026-01-01T00:00:00Z', phase: 'phase1', expert: 'roleplay', step, loss: 0.5, valAcc: 0.6 });

void describe('configHash', () => {
  void test('independent of key order; ignores resumable fields at any depth; sees everything else', () => {
    const a = config();
    const reordered = { datasetHash: 'abc123', versions: { rewardlens: '0.1.0' }, hyper: { patience: 5, batch: 16, lr: 1e-4 }, options: a.options };
    assert.equal(configHash(a), configHash(reordered));
    assert.equal(
      configHash(a),
      configHash(config({ options: { ...(a.options as object), maxMinutes: 600, backend: 'wasm', out: '/elsewhere' }, versions: { rewardlens: '0.2.0' } })),
    );
    assert.notEqual(configHash(a), configHash(config({ hyper: { lr: 2e-4, batch: 16, patience: 5 } })));
    assert.notEqual(configHash(a), configHash(config({ datasetHash: 'abc124' })));
  });
});

void describe('RunFolder', () => {
  void test('create writes run.json and checkpoints/; open reads it back', () => {
    const dir = join(tmp(), 'run');
    const f = RunFolder.create(dir, config());
    assert.ok(existsSync(join(dir, 'run.json')));
    assert.ok(existsSync(join(dir, 'checkpoints')));
    assert.deepEqual(RunFolder.open(dir).config, config());
    assert.equal(f.checkpointPath('phase2-roleplay-empathy'), join(f.dir, 'checkpoints', 'phase2-roleplay-empathy.safetensors'));
    assert.equal(f.checkpointMetaPath('base'), join(f.dir, 'checkpoints', 'base.json'));
    assert.throws(() => f.checkpointPath('../escape'), /invalid checkpoint component name/);
  });

  void test('create on a run of the same configuration resumes it (a new time budget is allowed)', () => {
    const dir = tmp();
    const first = RunFolder.create(dir, config());
    first.writeState({ completed: ['base'], current: { component: 'router', step: 300, checkpoint: 'checkpoints/router.safetensors' } });
    const again = RunFolder.create(dir, config({ options: { ...(config().options as object), maxMinutes: 90 } }));
    assert.deepEqual(again.readState(), { completed: ['base'], current: { component: 'router', step: 300, checkpoint: 'checkpoints/router.safetensors' } });
    // run.json is written once: it still holds the first run's budget
    assert.equal((again.config.options as { maxMinutes: number }).maxMinutes, 30);
  });

  void test('create refuses a run of another configuration, naming what differs', () => {
    const dir = tmp();
    RunFolder.create(dir, config());
    assert.throws(
      () => RunFolder.create(dir, config({ hyper: { lr: 3e-4, batch: 16, patience: 5 } })),
      (e: Error) => e.message.includes(dir) && e.message.includes('another configuration') && e.message.includes('hyper.lr: 0.0001 in the folder, 0.0003 now'),
    );
  });

  void test('create refuses a non-empty folder that is not a run, and a file', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    assert.throws(() => RunFolder.create(dir, config()), /is not empty and is not a run folder.*notes\.txt/);
    assert.deepEqual(readdirSync(dir), ['notes.txt']);
    assert.throws(() => RunFolder.create(join(dir, 'notes.txt'), config()), /is a file, not a folder/);
  });

  void test('open: readable errors for a folder without run.json and a broken run.json', () => {
    const dir = tmp();
    assert.throws(() => RunFolder.open(dir), /is not a RewardLens run folder \(it has no run\.json\)/);
    writeFileSync(join(dir, 'run.json'), '{"options": ');
    assert.throws(
      () => RunFolder.open(dir),
      (e: Error) => e.message.includes(join(dir, 'run.json')) && /not valid JSON/.test(e.message),
    );
  });

  void test('state: empty before the first write, replaced atomically (no temp file left)', () => {
    const f = RunFolder.create(tmp(), config());
    assert.deepEqual(f.readState(), { completed: [] });
    f.writeState({ completed: ['base', 'router'], finished: true });
    assert.deepEqual(f.readState(), { completed: ['base', 'router'], finished: true });
    assert.deepEqual(
      readdirSync(f.dir).filter((n) => n.includes('.tmp')),
      [],
    );
    writeFileSync(f.file('state'), '{"current": {}}');
    assert.throws(() => f.readState(), /has no list of completed components/);
  });

  void test('metrics: appended lines read back; a torn last line is skipped and the next append starts clean', () => {
    const dir = tmp();
    const f = RunFolder.create(dir, config());
    f.appendMetric(metric(100));
    f.appendMetric(metric(200));
    appendFileSync(f.file('metrics'), '{"ts":"2026-01-01T00:00:00Z","phase":"phase1","st'); // crash mid-write
    assert.deepEqual(
      f.readMetrics().map((m) => m.step),
      [100, 200],
    );
    const resumed = RunFolder.open(dir);
    resumed.appendMetric(metric(300));
    assert.deepEqual(
      resumed.readMetrics().map((m) => m.step),
      [100, 200, 300],
    );
    assert.deepEqual(resumed.readMetrics()[2], metric(300));
  });

  void test('eval: one result or several, read back as a list', () => {
    const f = RunFolder.create(tmp(), config());
    assert.equal(f.readEval(), undefined);
    const one = agreement('dmoerm', [{ category: 'roleplay', pairs: [{ record: 0, winner: 0, loser: 1 }] }], () => [1, 0]);
    f.writeEval(one);
    assert.deepEqual(f.readEval(), [one]);
    const two = agreement('single', [{ pairs: [{ record: 0, winner: 0, loser: 1 }] }], () => [0, 1]);
    f.writeEval([one, two]);
    assert.deepEqual(f.readEval(), [one, two]);
  });

  void test('log lines are time-stamped and appended', () => {
    const f = RunFolder.create(tmp(), config());
    f.log('phase1 roleplay: step 100');
    f.log('done\n');
    const lines = readFileSync(f.file('log'), 'utf8').split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^\d{4}-\d\d-\d\dT\S+Z phase1 roleplay: step 100$/);
    assert.match(lines[1], /Z done$/);
  });
});

void describe('listRuns', () => {
  void test('runs under a root, sorted, with method, finished and evaluation; unreadable ones listed with their error', () => {
    const root = tmp();
    const b = RunFolder.create(join(root, 'b'), config());
    b.writeState({ completed: ['base'], finished: true });
    const result = agreement('dmoerm', [{ pairs: [{ record: 0, winner: 0, loser: 1 }] }], () => [1, 0]);
    b.writeEval(result);
    RunFolder.create(join(root, 'a'), { method: 'single', seed: 2 });
    mkdirSync(join(root, 'c'));
    writeFileSync(join(root, 'c', 'run.json'), 'not json');
    mkdirSync(join(root, 'not-a-run'));
    writeFileSync(join(root, 'stray.txt'), '');

    const runs = listRuns(root);
    assert.deepEqual(
      runs.map((r) => [r.dir, r.method, r.finished]),
      [
        [join(root, 'a'), 'single', false],
        [join(root, 'b'), 'dmoerm', true],
        [join(root, 'c'), 'unknown', false],
      ],
    );
    assert.deepEqual(runs[1].evaluation, [result]);
    assert.equal(runs[0].evaluation, undefined);
    assert.match(runs[2].error ?? '', /not valid JSON/);
    assert.deepEqual(listRuns(join(root, 'missing')), []);
    assert.equal(listRuns(join(root, 'b')).length, 1);
  });
});

void describe('renderModelCard', () => {
  const info = (over: Partial<ModelCardInfo> = {}): ModelCardInfo => ({
    method: 'dmoerm',
    base: { kind: 'preset', preset: 'tiny', parameters: 1234567 },
    tokenizer: 'WordPiece, 21128 tokens',
    data: {
      file: 'train.jsonl',
      hash: 'abc123',
      records: 1000,
      pairs: 2500,
      categories: { roleplay: 600, 'chit|chat': 400 },
      test: { records: 200, pairs: 480 },
    },
    phases: [
      { phase: 'base', steps: 1200, bestStep: 900, bestValAcc: 0.642 },
      { phase: 'phase2', expert: 'roleplay/empathy_ability', steps: 400, bestStep: 300, bestValAcc: 0.7, stoppedBy: 'early stopping' },
    ],
    capabilityPoints: { roleplay: [{ point: 'empathy_ability', pairs: 321 }] },
    evaluation: [agreement('dmoerm', [{ category: 'roleplay', pairs: [{ record: 0, winner: 0, loser: 1 }] }], () => [1, 0])],
    references: [
      longerWins(
        judgedRecords([
          {
            id: 'x',
            category: 'roleplay',
            context: [{ role: 'user', content: 'q' }],
            responses: [{ text: 'a' }, { text: 'bb' }],
            preference: { ranking: [1, 2] },
          },
        ]),
      ),
    ],
    seed: 7,
    backend: 'wasm',
    ...over,
  });

  void test("sections with the run's facts: base, data, phases, points, evaluation table, limitations, use", () => {
    const md = renderModelCard(info());
    for (const heading of [
      '# Reward model: dmoerm',
      '## Base',
      '## Data',
      '## Training',
      '## Capability points',
      '## Evaluation',
      '## Limitations',
      '## Intended use',
    ])
      assert.ok(md.includes(heading), heading);
    assert.match(md, /from scratch, preset `tiny` \(1,234,567 parameters\)/);
    assert.match(md, /`train\.jsonl` \(content hash `abc123`\)/);
    assert.match(md, /1,000 records, 2,500 non-tied preference pairs/);
    assert.match(md, /held-out part of the training file.*200 records, 480 pairs/);
    assert.match(md, /\| chit\\\|chat \| 400 \|/); // a pipe in a category name is escaped
    assert.match(md, /\| phase2 \| roleplay\/empathy\\_ability \| 400 \| 300 \| 70\.0% \| early stopping \|/);
    assert.match(md, /\| base \| {2}\| 1200 \| 900 \| 64\.2% \| step budget \|/);
    assert.match(md, /\| roleplay \| empathy\\_ability \| 321 \|/);
    assert.match(md, /dmoerm\s+100\.0%\s+100\.0%/);
    assert.match(md, /longer-wins\s+0\.0%/);
    assert.match(md, /Seed 7, backend wasm/);
    assert.match(md, /trained from scratch on one dataset/);
  });

  void test('imported base and no evaluation are said plainly', () => {
    const md = renderModelCard(
      info({
        base: { kind: 'imported', folder: 'models/bert', name: 'bert-base-chinese' },
        evaluation: [],
        references: [],
        data: { ...info().data, test: undefined },
        notes: ['The time budget ran out in phase 3.'],
      }),
    );
    assert.match(md, /Fine-tuned from the imported encoder in `models\/bert` \(bert\\-base\\-chinese\)/);
    assert.match(md, /Not evaluated\./);
    assert.match(md, /No held-out evaluation was made/);
    assert.match(md, /- The time budget ran out in phase 3\./);
  });
});
