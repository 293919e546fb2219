import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { exportRun } from '../../../src/core/export/export';
import { ownerOf } from '../../../src/core/lock';
import { readSafetensors } from '../../../src/core/model/safetensors';
import { scoreFile } from '../../../src/core/scoring/score-file';
import { CancelledError } from '../../../src/core/cancelled';
import { RunFolder } from '../../../src/core/training/run-folder';
import { probePython } from '../../../src/core/training/python-env';
import { runTorchTrainer, trainerPackageDir } from '../../../src/core/training/torch-trainer';
import { evaluateRun, prepare, train } from '../../../src/core/training/train';
import type { TrainEvent, TrainOptions } from '../../../src/core/training/types';
import { repoRoot } from '../../support/repo-root';
import { writeLabelledSyntheticPreferences } from '../../support/synthetic-prefs';

// The PyTorch trainer (trainer/) against the TypeScript engine, on the same training plans. Needs a Python
// with trainer/requirements.txt: REWARDLENS_PYTHON, or the venv .ci/run makes in .tools/torch-venv.
const root = repoRoot();
const python = process.env.REWARDLENS_PYTHON ?? [join(root, '.tools', 'torch-venv', 'bin', 'python')].find(existsSync) ?? 'python3';
const probe = spawnSync(python, ['-c', 'import torch, transformers, peft, safetensors'], { encoding: 'utf8' });
const noTorch =
  probe.status === 0
    ? false
    : `no Python with the trainer's requirements (${python}: ${(probe.stderr || String(probe.error)).trim().split('\n').pop()}); pip install -r trainer/requirements.txt and set REWARDLENS_PYTHON`;
const fixture = join(root, '..', 'shared', 'fixtures', 'hf-reference', 'tiny-bert');
const hh = join(root, 'test', 'fixtures', 'samples', 'hh-rlhf-harmless.sample.jsonl');
const dir = mkdtempSync(join(tmpdir(), 'rl-torch-'));
/** Tests of the tiny BERT fixture: skipped without it; each trains from its own copy (some change or move it). */
const needsFixture = { skip: existsSync(fixture) ? false : `${fixture} is missing` };
function fixtureCopy(name: string): string {
  const base = join(dir, name);
  cpSync(fixture, base, { recursive: true });
  return base;
}
/** The environment `python -m rewardlens_trainer` runs in, as runTorchTrainer gives it; and the trainer started by hand on `run`. */
const trainerEnv = { ...process.env, PYTHONPATH: trainerPackageDir(join(root, 'dist')) + delimiter + (process.env.PYTHONPATH ?? '') };
const trainerByHand = (run: string, ...extra: string[]) =>
  spawnSync(python, ['-m', 'rewardlens_trainer', run, '--device', 'cpu', ...extra], { env: trainerEnv, encoding: 'utf8' });
after(() => rmSync(dir, { recursive: true, force: true }));

const metrics = (run: string): Array<{ phase: string; step: number; loss: number; valAcc: number }> =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { phase: string; step: number; loss: number; valAcc: number });

void describe('PyTorch trainer', { skip: noTorch }, async () => {
  await test('trains the same steps as the TypeScript engine on the same plan (tiny BERT, dropout off): losses within 1e-4', needsFixture, async () => {
    const base = fixtureCopy('tiny-bert-no-dropout');
    const config = JSON.parse(readFileSync(join(base, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(base, 'config.json'), JSON.stringify({ ...config, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 }));
    // A rate high enough that the weights move visibly in 20 steps; an evaluation (and metric line) every step.
    const options = (out: string): TrainOptions => ({
      dataset: hh,
      method: 'single',
      out: join(dir, out),
      preset: 'tiny',
      base,
      backend: 'wasm',
      seed: 7,
      overrides: { 'maxSteps.base': 20, evalEvery: 1, patience: 100, 'lr.base': 3e-3 },
    });
    await train(options('parity-tfjs'));
    await prepare(options('parity-torch'));
    await runTorchTrainer(join(dir, 'parity-torch'), { python, device: 'cpu' });
    const a = metrics(join(dir, 'parity-tfjs'));
    const b = metrics(join(dir, 'parity-torch'));
    assert.equal(a.length, 21, 'step 0 and 20 steps');
    assert.equal(b.length, a.length);
    a.forEach((m, i) => {
      assert.equal(b[i].step, m.step);
      assert.ok(Math.abs(b[i].loss - m.loss) < 1e-4, `step ${m.step}: loss ${m.loss} (TensorFlow.js) vs ${b[i].loss} (PyTorch)`);
      assert.equal(b[i].valAcc, m.valAcc, `step ${m.step}: validation accuracy`);
    });
    assert.ok(Math.abs(a[20].loss - a[1].loss) > 1e-3, 'the weights moved: the comparison means something');
    const evalOf = (run: string): unknown => JSON.parse(readFileSync(join(dir, run, 'eval.json'), 'utf8'));
    assert.deepEqual(evalOf('parity-torch'), evalOf('parity-tfjs'), 'the same held-out evaluation');
  });

  await test(
    'a plan reads its pre-trained base from the base folder (not a copy in init.safetensors); another copy needs --base, a changed one is refused',
    needsFixture,
    async () => {
      const base = fixtureCopy('tiny-bert-movable');
      const run = join(dir, 'base-by-reference');
      await prepare({
        dataset: hh,
        method: 'single',
        out: run,
        preset: 'tiny',
        base,
        backend: 'torch',
        seed: 7,
        overrides: { 'maxSteps.base': 4, evalEvery: 2 },
      });
      const plan = JSON.parse(readFileSync(join(run, 'plan.json'), 'utf8')) as {
        baseWeights?: { folder: string; files: Record<string, string>; tensors: Record<string, { file: string; tensor: string }> };
      };
      assert.equal(plan.baseWeights?.folder, base);
      assert.match(plan.baseWeights?.files['model.safetensors'] ?? '', /^[0-9a-f]{64}$/);
      assert.equal(plan.baseWeights?.tensors['embeddings.word_embeddings.weight'].tensor, 'embeddings.word_embeddings.weight');
      assert.ok(
        ![...readSafetensors(join(run, 'init.safetensors')).tensors.keys()].some((k) => k.startsWith('base.encoder/')),
        'no copy of the base in the plan',
      );
      const trainer = (...extra: string[]): ReturnType<typeof spawnSync> => trainerByHand(run, ...extra);
      // The base moved (another machine): refused with what to do, then trained from the copy given.
      const moved = join(dir, 'tiny-bert-moved');
      cpSync(base, moved, { recursive: true });
      rmSync(base, { recursive: true });
      const refused = trainer();
      assert.equal(refused.status, 2, String(refused.stderr));
      assert.match(String(refused.stderr), /the plan's base folder is not here; pass --base DIR/);
      // A changed copy is refused without --base.
      cpSync(moved, base, { recursive: true });
      writeFileSync(join(base, 'model.safetensors'), readFileSync(join(moved, 'model.safetensors')).subarray(0, 100));
      assert.match(String(trainer().stderr), /changed since the plan was written/);
      // A float16 copy cut to another run's vocabulary lacks this run's rows: refused by name.
      const cut = join(dir, 'tiny-bert-cut');
      writeFileSync(join(dir, 'other-vocab.json'), JSON.stringify({ keep: [0, 1, 2, 3] }));
      const half = spawnSync(python, [join(root, 'bench', 'device', 'half-base.py'), moved, cut, '--vocab', join(dir, 'other-vocab.json')], {
        encoding: 'utf8',
      });
      assert.equal(half.status, 0, half.stderr);
      assert.match(String(trainer('--base', cut).stderr), /cut to another vocabulary and lacks \d+ of this run's tokens/);
      const trained = trainer('--base', moved);
      assert.equal(trained.status, 0, String(trained.stderr));
      // The trainer's initial weights are the TypeScript engine's: the same validation accuracy at step 0.
      await train({
        dataset: hh,
        method: 'single',
        out: join(dir, 'base-by-reference-tfjs'),
        preset: 'tiny',
        base: moved,
        backend: 'wasm',
        seed: 7,
        overrides: { 'maxSteps.base': 4, evalEvery: 2 },
      });
      assert.equal(metrics(run)[0].valAcc, metrics(join(dir, 'base-by-reference-tfjs'))[0].valAcc);
    },
  );

  await test('DDP: 2 gloo processes train the same weights as 1 process on the same global batch (within 1e-4)', needsFixture, async () => {
    const base = join(dir, 'tiny-bert-no-dropout');
    const options = (out: string): TrainOptions => ({
      dataset: hh,
      method: 'single',
      out: join(dir, out),
      preset: 'tiny',
      base,
      backend: 'torch',
      python,
      device: 'cpu',
      seed: 7,
      overrides: { 'maxSteps.base': 10, evalEvery: 5, 'lr.base': 3e-3, threads: 1 },
    });
    await prepare(options('ddp-1'));
    // One process cuts each step of 8 pairs into two passes of 4, as two processes share it.
    await runTorchTrainer(join(dir, 'ddp-1'), { python, device: 'cpu', threads: 1, microBatch: 4 });
    const events: TrainEvent[] = [];
    await train({ ...options('ddp-2'), gpus: 2 }, { onEvent: (e) => events.push(e) });
    assert.ok(
      events.some((e) => e.type === 'backend' && /× 2 processes/.test(e.tfBackend)),
      'two processes trained',
    );
    assert.equal(events.filter((e) => e.type === 'progress' && e.step === 5).length, 1, 'only the first process reports');
    const weights = (run: string): Map<string, Float32Array> =>
      new Map([...readSafetensors(join(dir, run, 'checkpoints', 'base.safetensors')).tensors].map(([k, t]) => [k, t.data]));
    const one = weights('ddp-1');
    const two = weights('ddp-2');
    assert.deepEqual([...two.keys()], [...one.keys()]);
    let worst = 0;
    for (const [k, a] of one) a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - two.get(k)![i]))));
    assert.ok(worst < 1e-4, `largest weight difference ${worst}`);
    assert.deepEqual(
      metrics(join(dir, 'ddp-2')).map((m) => m.step),
      [0, 5, 10],
    );
  });

  const data = join(dir, 'train.jsonl');
  const labels = join(dir, 'train.labels.jsonl');
  await writeLabelledSyntheticPreferences(data, labels, 160, 5);
  const FAST = {
    'maxSteps.base': 30,
    'maxSteps.router': 40,
    'maxSteps.phase1': 20,
    'maxSteps.phase2': 10,
    'maxSteps.phase3': 40,
    evalEvery: 10,
    patience: 3,
    minPairs: 8,
  };
  const dmoerm = (out: string, method: TrainOptions['method'] = 'dmoerm'): TrainOptions => ({
    dataset: data,
    labels,
    method,
    out: join(dir, out),
    preset: 'tiny',
    backend: 'wasm',
    seed: 5,
    overrides: FAST,
  });

  await test('dmoerm: router, Phase 1/2/3 train; the export scores as the trainer does (1e-4); the TypeScript engine evaluates the run', async () => {
    const events: TrainEvent[] = [];
    await prepare(dmoerm('dmoerm'));
    const summary = await runTorchTrainer(join(dir, 'dmoerm'), { python, device: 'cpu', onEvent: (e) => events.push(e) });
    const run = join(dir, 'dmoerm');
    const model = JSON.parse(readFileSync(join(run, 'model.json'), 'utf8')) as {
      router: { component: string; categories: string[] };
      inner: Record<string, { experts: unknown[]; phase3?: string }>;
    };
    assert.equal(model.router.component, 'router');
    assert.ok(model.router.categories.length > 1);
    assert.ok(
      Object.values(model.inner).some((i) => i.experts.length > 0 && i.phase3),
      JSON.stringify(model.inner),
    );
    for (const phase of ['base', 'router', 'phase1', 'phase2', 'phase3'])
      assert.ok(
        events.some((e) => e.type === 'progress' && e.phase === phase),
        `${phase} reported progress`,
      );
    assert.ok(events.some((e) => e.type === 'backend' && e.backend === ('torch' as never)));
    assert.ok(summary.evaluation && summary.evaluation.pairs > 0);

    const onnx = join(dir, 'dmoerm.onnx');
    exportRun(run, onnx);
    const expected = JSON.parse(readFileSync(join(run, 'test-rewards.json'), 'utf8')) as Array<{ index: number; rewards: number[] }>;
    assert.ok(expected.length > 10);
    const scored = new Map((await scoreFile(onnx, data)).records.map((r) => [r.index, r.rewards]));
    for (const e of expected) {
      const got = scored.get(e.index)!;
      e.rewards.forEach((r, k) => assert.ok(Math.abs(got[k] - r) < 1e-4, `record ${e.index} response ${k}: onnxruntime ${got[k]}, trainer ${r}`));
    }
    const result = await evaluateRun(run, data);
    assert.ok(result.pairs > 100);
  });

  const qwen2 = join(root, 'test', 'fixtures', 'hf-reference', 'tiny-qwen2');

  await test('a tiny Qwen2 base: dmoerm trains (last-token pooling, LoRA on q_proj/v_proj), exports, and onnxruntime scores as the trainer does (1e-4)', async () => {
    const run = join(dir, 'qwen2');
    const events: TrainEvent[] = [];
    const summary = await train({ ...dmoerm('qwen2'), base: qwen2, backend: 'torch', python, device: 'cpu' }, { onEvent: (e) => events.push(e) });
    assert.equal(summary.backend, 'torch');
    for (const phase of ['base', 'router', 'phase1', 'phase2', 'phase3'])
      assert.ok(
        events.some((e) => e.type === 'progress' && e.phase === phase),
        `${phase} reported progress`,
      );
    const plan = JSON.parse(readFileSync(join(run, 'plan.json'), 'utf8')) as { encoder: { architecture?: string } };
    assert.equal(plan.encoder.architecture, 'qwen2');
    const init = readSafetensors(join(run, 'init.safetensors')).tensors;
    assert.ok(
      [...init.keys()].some((k) => /^phase2-.*\.lora\/layers\.1\.self_attn\.v_proj\.lora_A\.weight$/.test(k)),
      'decoder LoRA weights in the plan',
    );
    const base = readSafetensors(join(run, 'checkpoints', 'base.safetensors')).tensors;
    const initial = readSafetensors(join(qwen2, 'model.safetensors')).tensors.get('layers.0.self_attn.q_proj.weight')!.data;
    assert.ok(
      base.get('encoder/layers.0.self_attn.q_proj.weight')!.data.some((v, i) => Math.abs(v - initial[i]) > 1e-6),
      'the general RM fine-tuned the decoder',
    );

    const onnx = join(dir, 'qwen2.onnx');
    exportRun(run, onnx);
    const manifest = JSON.parse(readFileSync(join(dir, 'qwen2.manifest.json'), 'utf8')) as { style?: string };
    assert.equal(manifest.style, 'decoder');
    const expected = JSON.parse(readFileSync(join(run, 'test-rewards.json'), 'utf8')) as Array<{ index: number; rewards: number[] }>;
    assert.ok(expected.length > 10);
    const scored = new Map((await scoreFile(onnx, data)).records.map((r) => [r.index, r.rewards]));
    let worst = 0;
    for (const e of expected) e.rewards.forEach((r, k) => (worst = Math.max(worst, Math.abs(scored.get(e.index)![k] - r))));
    assert.ok(worst < 1e-4, `max |onnxruntime − trainer| ${worst}`);
    // rewardlens eval: the TensorFlow.js engine does not run decoders, the run is scored through its export.
    const result = await evaluateRun(run, data);
    assert.ok(result.pairs > 100);
    assert.equal(result.overall, (await scoreFile(onnx, data)).summary.overall);
  });

  await test('the TensorFlow.js engine refuses a decoder base before it creates the run folder', async () => {
    const out = join(dir, 'qwen2-wasm');
    await assert.rejects(train({ ...dmoerm('qwen2-wasm', 'single'), base: qwen2 }), /decoder bases train with --backend torch/);
    assert.ok(!existsSync(join(out, 'run.json')));
    // A plan is for the PyTorch trainer whatever --backend says: `prepare` takes the decoder base.
    const plan = await prepare({ ...dmoerm('qwen2-plan', 'single'), base: qwen2 });
    assert.deepEqual(
      plan.components.map((c) => c.name),
      ['base'],
    );
  });

  await test('a damaged run folder or a bad flag is refused with exit 2 and one line naming the file, never a traceback or training on other data', async () => {
    const run = join(dir, 'damaged');
    await prepare({ dataset: hh, method: 'single', out: run, preset: 'tiny', backend: 'torch', seed: 3, overrides: { 'maxSteps.base': 2 } });
    const refused = (why: RegExp, ...extra: string[]): void => {
      const r = trainerByHand(run, ...extra);
      assert.equal(r.status, 2, r.stderr);
      assert.doesNotMatch(r.stderr, /Traceback/);
      assert.match(r.stderr, why);
    };
    refused(/--device tpu: not a device/, '--device', 'tpu');
    refused(/--threads 100000: at most 256/, '--threads', '100000');
    const tables = join(run, 'plan.safetensors');
    const bytes = readFileSync(tables);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5] ^= 1;
    writeFileSync(tables, flipped);
    refused(/plan\.safetensors: does not match plan\.json's tablesSha256/);
    rmSync(tables);
    refused(/plan\.safetensors: cannot read the plan's tables/);
    writeFileSync(tables, bytes);
    const init = join(run, 'init.safetensors');
    const initBytes = readFileSync(init);
    rmSync(init);
    refused(/init\.safetensors: not found/);
    writeFileSync(init, initBytes);
    const plan = readFileSync(join(run, 'plan.json'));
    writeFileSync(join(run, 'plan.json'), '[]');
    refused(/plan\.json: not a RewardLens training plan \(a JSON list, not an object\)/);
    writeFileSync(join(run, 'plan.json'), plan);
  });

  await test('killed with SIGKILL mid-run, then started again: finished components are not trained again', async () => {
    const run = join(dir, 'killed');
    await prepare(dmoerm('killed', 'dmoerm-no-outer'));
    const child = spawn(python, ['-m', 'rewardlens_trainer', run, '--device', 'cpu'], { env: trainerEnv, stdio: ['ignore', 'pipe', 'inherit'] });
    const killedAt = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = JSON.parse(line) as { type: string; event?: TrainEvent };
        if (m.event?.type === 'checkpoint' && m.event.phase === 'phase1') {
          child.kill('SIGKILL');
          resolve(m.event.path);
        }
      });
      child.on('close', () => reject(new Error('the trainer ended before Phase 1 checkpointed')));
    });
    await new Promise((r) => child.on('close', r));
    assert.ok(existsSync(killedAt), 'the partial checkpoint is there');
    assert.deepEqual(RunFolder.open(run).readState().completed, ['base']);
    const events: TrainEvent[] = [];
    await runTorchTrainer(run, { python, device: 'cpu', onEvent: (e) => events.push(e) });
    assert.ok(!events.some((e) => e.type === 'progress' && e.phase === 'base'), 'the general RM is not trained again');
    assert.ok(
      events.some((e) => e.type === 'log' && /resuming at step \d+/.test(e.message)),
      'Phase 1 resumes from its checkpoint',
    );
    assert.equal(RunFolder.open(run).readState().finished, true);
  });

  await test('train() with backend torch: the CLI path prepares, trains and writes the model card', async () => {
    const events: TrainEvent[] = [];
    const summary = await train({ ...dmoerm('through-train', 'single'), backend: 'torch', python, device: 'cpu' }, { onEvent: (e) => events.push(e) });
    assert.equal(summary.backend, 'torch');
    assert.match(summary.device ?? '', /^cpu · fp32/);
    assert.match(readFileSync(join(dir, 'through-train', 'MODEL_CARD.md'), 'utf8'), /PyTorch trainer \(cpu · fp32/);
    assert.ok(events.some((e) => e.type === 'evaluation'));
  });

  await test("doctor: the trainer's Python is ready; a missing interpreter says so", async () => {
    const ready = await probePython(python);
    assert.equal(ready.ready, true, JSON.stringify(ready));
    assert.match(ready.torch ?? '', /^\d+\.\d+/);
    const missing = await probePython(join(dir, 'no-such-python'));
    assert.equal(missing.ready, false);
    assert.equal(missing.error, 'not found');
  });

  await test('a trainer started by hand refuses a run folder another live process holds; a lock whose pid was reused, or whose owner died, is taken over', async () => {
    const run = join(dir, 'locked');
    await prepare(dmoerm('locked', 'single'));
    // Lives until killed (a loaded machine can take longer than any fixed time), and 'close' is listened
    // for from the start so that an early exit cannot leave the test waiting on an event already gone.
    const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    const closed = new Promise((r) => holder.once('close', r));
    try {
      writeFileSync(join(run, 'run.lock'), ownerOf(holder.pid!));
      await assert.rejects(runTorchTrainer(run, { python, device: 'cpu' }), /is in use by process \d+/);
      // The holder's pid with another start time: that owner ended and the pid went to a new process.
      writeFileSync(join(run, 'run.lock'), `${holder.pid}@${hostname()} 1`);
      await runTorchTrainer(run, { python, device: 'cpu' });
      assert.ok(!existsSync(join(run, 'run.lock')), 'released when done');
    } finally {
      holder.kill();
      await closed;
    }
    const dead = join(dir, 'locked-dead');
    await prepare(dmoerm('locked-dead', 'single'));
    writeFileSync(join(dead, 'run.lock'), `${holder.pid}@${hostname()}`);
    await runTorchTrainer(dead, { python, device: 'cpu' });
    assert.equal(RunFolder.open(dead).readState().finished, true);
  });

  await test('cancel stops at the next step with a CancelledError; the same run then finishes', async () => {
    const run = join(dir, 'cancelled');
    await prepare(dmoerm('cancelled', 'single'));
    const controller = new AbortController();
    await assert.rejects(
      runTorchTrainer(run, { python, device: 'cpu', signal: controller.signal, onEvent: (e) => e.type === 'checkpoint' && controller.abort() }),
      CancelledError,
    );
    assert.ok(!RunFolder.open(run).readState().finished);
    await runTorchTrainer(run, { python, device: 'cpu' });
    assert.equal(RunFolder.open(run).readState().finished, true);
  });
});
