// In-host tests of the training UI: the commands, the Training Runs view and the chart panel on run
// folders written here as plain files (no training), the trust guard, and a resume that reaches the
// real worker process and reports its error.
import * as assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TestingApi } from '../../../src/extension/main';
import type { TrainCommandResult } from '../../../src/extension/training/train-command';
import { trainingBlockedReason } from '../../../src/extension/training/trust';
import { writeSyntheticPreferences } from '../../support/synthetic-prefs';
import { testingApi, waitFor, workspaceFolder } from './helpers';

const COMMANDS = [
  'rewardlens.train',
  'rewardlens.resumeTraining',
  'rewardlens.evaluateRun',
  'rewardlens.stopTraining',
  'rewardlens.showTrainingChart',
  'rewardlens.openModelCard',
  'rewardlens.revealRun',
  'rewardlens.refreshRuns',
  'rewardlens.installGpuBackend',
  'rewardlens.installNativeBackend',
  'rewardlens.setUpTorchTraining',
];

/** An expert name that would run script if it were ever parsed as HTML. */
const HOSTILE = 'roleplay<img src=x onerror=alert(1)>';

function metricLines(): string {
  const lines: object[] = [];
  for (let step = 10; step <= 50; step += 10)
    lines.push({ ts: '2026-01-01T00:00:00Z', phase: 'base', step, loss: 1 / step, trainAcc: 0.5 + step / 200, valAcc: 0.5 + step / 250 });
  for (const expert of [HOSTILE, 'empathy']) {
    for (let step = 5; step <= 15; step += 5)
      lines.push({ ts: '2026-01-01T00:01:00Z', phase: 'phase1', expert, step, loss: 0.6, valAcc: expert === 'empathy' ? 0.6 + step / 100 : 0.55 });
  }
  // A torn last line, as a crash leaves it: skipped, not fatal.
  return `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"ts":"2026-01-01T00:02`;
}

suite('RewardLens training UI', () => {
  const runs = join(workspaceFolder().fsPath, '.rewardlens', 'runs');
  const finished = join(runs, 'fixture-dmoerm-20260101-000000');
  const stopped = join(runs, 'fixture-single-20260102-000000');
  let testing: TestingApi;

  suiteSetup(async () => {
    testing = await testingApi();
    for (const dir of [finished, stopped]) mkdirSync(join(dir, 'checkpoints'), { recursive: true });
    writeFileSync(
      join(finished, 'run.json'),
      JSON.stringify({ method: 'dmoerm', dataset: join(workspaceFolder().fsPath, 'pandalm.sample.jsonl'), preset: 'tiny', seed: 42 }),
    );
    writeFileSync(join(finished, 'state.json'), JSON.stringify({ completed: ['base', 'phase1-empathy'], finished: true }));
    writeFileSync(join(finished, 'metrics.jsonl'), metricLines());
    writeFileSync(
      join(finished, 'eval.json'),
      JSON.stringify([
        { method: 'dmoerm', overall: 0.734, pairs: 150, byCategory: { chat: { accuracy: 0.75, pairs: 100 }, [HOSTILE]: { accuracy: 0.7, pairs: 50 } } },
      ]),
    );
    // A stopped run whose dataset is gone: resuming it must fail with the worker's message.
    writeFileSync(
      join(stopped, 'run.json'),
      JSON.stringify({
        method: 'single',
        dataset: join(workspaceFolder().fsPath, 'deleted.jsonl'),
        preset: 'tiny',
        seed: 1,
        hyperParams: { testFraction: 0.1 },
      }),
    );
    writeFileSync(join(stopped, 'state.json'), JSON.stringify({ completed: [], current: { component: 'base', step: 3 } }));
  });

  teardown(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  suiteTeardown(() => {
    rmSync(join(workspaceFolder().fsPath, '.rewardlens', 'runs'), { recursive: true, force: true });
  });

  test('registers the training commands', async () => {
    const all = new Set(await vscode.commands.getCommands(true));
    for (const id of COMMANDS) assert.ok(all.has(id), `${id} is not registered`);
  });

  test('the Training Runs view lists the runs with method, state and accuracy, and their phases/experts', async () => {
    await vscode.commands.executeCommand('rewardlens.refreshRuns');
    const nodes = await waitFor(async () => {
      const n = await testing.trainingRunNodes();
      return n.some((x) => x.label === 'fixture-dmoerm-20260101-000000') && n.some((x) => x.label === 'fixture-single-20260102-000000') ? n : undefined;
    }, 'both fixture runs in the view');
    const done = nodes.find((n) => n.label === 'fixture-dmoerm-20260101-000000')!;
    assert.equal(done.description, 'dmoerm · finished · 73.4%');
    const halted = nodes.find((n) => n.label === 'fixture-single-20260102-000000')!;
    assert.equal(halted.description, 'single · stopped (resumable)');

    const children = await testing.trainingRunNodes(done.node);
    assert.deepEqual(
      children.map((c) => [c.label, c.description]),
      [
        ['base', 'best val 70.0% at step 50'],
        [`phase1 · ${HOSTILE}`, 'best val 55.0% at step 5'],
        ['phase1 · empathy', 'best val 75.0% at step 15'],
      ],
    );
  });

  test('the chart panel opens on a run folder and gets its series', async () => {
    await vscode.commands.executeCommand('rewardlens.showTrainingChart', finished);
    // Data is posted only after the webview script loaded and said it is ready.
    const data = await waitFor(
      () => {
        const d = testing.trainingChartData();
        return d?.run === finished ? d : undefined;
      },
      'the chart webview to be ready and get the run',
      15_000,
    );
    assert.equal(data.method, 'dmoerm');
    assert.equal(data.state, 'finished');
    assert.equal(data.points.length, 11, 'five base points and three per expert; the torn line skipped');
    assert.deepEqual([...new Set(data.points.map((p) => `${p.phase}/${p.expert ?? ''}`))], ['base/', `phase1/${HOSTILE}`, 'phase1/empathy']);
    assert.equal(data.evaluation?.overall, 0.734);
    const tab = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('rewardlens.trainingChart'));
    assert.ok(tab, 'no chart tab');
    assert.equal(tab.label, 'Training: fixture-dmoerm-20260101-000000');

    // A phase node opens the same panel filtered to its phase; a new metrics line shows up without a refresh.
    await vscode.commands.executeCommand('rewardlens.showTrainingChart', finished, 'phase1');
    assert.equal(testing.trainingChartData()?.phase, 'phase1');
    writeFileSync(join(finished, 'metrics.jsonl'), `${metricLines()}\n${JSON.stringify({ ts: 't', phase: 'ensemble', step: 1, loss: 0.5, valAcc: 0.8 })}\n`);
    await waitFor(() => testing.trainingChartData()?.points.some((p) => p.phase === 'ensemble'), 'the chart to follow metrics.jsonl', 10_000);
  });

  test("resuming a run whose dataset is gone reports the worker's error, and the run stays listed as stopped", async () => {
    const result = await vscode.commands.executeCommand<TrainCommandResult>('rewardlens.resumeTraining', stopped);
    assert.equal(result.outcome, 'failed', JSON.stringify(result));
    assert.ok(result.outcome === 'failed' && !result.died, 'the worker answered with an error instead of dying');
    assert.match(result.message, /deleted\.jsonl/);
    const nodes = await testing.trainingRunNodes();
    assert.equal(nodes.find((n) => n.label === 'fixture-single-20260102-000000')?.description, 'single · stopped (resumable)');
  });

  test('training is refused in Restricted Mode, saying why', () => {
    assert.equal(trainingBlockedReason(true), undefined);
    assert.match(trainingBlockedReason(false) ?? '', /disabled in Restricted Mode.*Trust the workspace/);
  });

  test('Train Reward Model trains for real in the worker process and lists the finished run', async function () {
    this.timeout(240_000);
    const data = join(workspaceFolder().fsPath, 'synthetic-prefs.jsonl');
    writeSyntheticPreferences(data, 120, 21);
    const out = join(runs, 'synthetic-single');
    rmSync(out, { recursive: true, force: true });
    const result = await vscode.commands.executeCommand<TrainCommandResult>('rewardlens.train', vscode.Uri.file(data), {
      method: 'single',
      preset: 'tiny',
      backend: 'wasm',
      out,
      seed: 2,
      overrides: { 'maxSteps.base': 60, evalEvery: 20, patience: 3 },
    });
    assert.equal(result.outcome, 'finished', JSON.stringify(result));
    assert.ok(result.outcome === 'finished' && result.summary.backend === 'wasm');
    assert.ok(result.outcome === 'finished' && (result.summary.evaluation?.pairs ?? 0) > 0, 'held-out evaluation ran');
    await vscode.commands.executeCommand('rewardlens.refreshRuns');
    await waitFor(
      async () => (await testing.trainingRunNodes()).some((n) => n.label === 'synthetic-single' && /finished/.test(String(n.description))),
      'the run listed as finished',
      10_000,
    );
    await vscode.commands.executeCommand('rewardlens.showTrainingChart', out);
    await waitFor(() => (testing.trainingChartData()?.points.filter((p) => p.phase === 'base').length ?? 0) >= 2, 'the chart to show the base phase', 10_000);
    rmSync(data, { force: true });
  });
  test('Train Reward Model with the PyTorch backend: the trainer trains, the chart follows it live, the run is listed', async function () {
    const python = process.env.REWARDLENS_PYTHON;
    if (!python) return this.skip(); // no Python with trainer/requirements.txt (.ci/run sets one up)
    this.timeout(300_000);
    await vscode.workspace.getConfiguration('rewardlens').update('python', python, vscode.ConfigurationTarget.Global);
    const data = join(workspaceFolder().fsPath, 'synthetic-prefs-torch.jsonl');
    writeSyntheticPreferences(data, 120, 22);
    const out = join(runs, 'synthetic-torch');
    rmSync(out, { recursive: true, force: true });
    let done = false;
    const running = Promise.resolve(
      vscode.commands.executeCommand<TrainCommandResult>('rewardlens.train', vscode.Uri.file(data), {
        method: 'single',
        preset: 'tiny',
        backend: 'torch',
        out,
        seed: 2,
        overrides: { 'maxSteps.base': 80, evalEvery: 10, patience: 10 },
      }),
    ).finally(() => (done = true));
    let liveBeforeEnd = false;
    while (!done) {
      if (!liveBeforeEnd && (testing.trainingChartData()?.points.filter((p) => p.phase === 'base').length ?? 0) >= 2) liveBeforeEnd = !done;
      await new Promise((r) => setTimeout(r, 200));
    }
    const result = await running;
    assert.equal(result.outcome, 'finished', JSON.stringify(result));
    assert.ok(result.outcome === 'finished' && result.summary.backend === 'torch');
    assert.ok(result.outcome === 'finished' && /^cpu · fp32/.test(result.summary.device ?? ''), 'trained on the CPU, and says so');
    assert.ok(liveBeforeEnd, 'the chart showed the base curve while the trainer was still running');
    await vscode.commands.executeCommand('rewardlens.refreshRuns');
    await waitFor(
      async () => (await testing.trainingRunNodes()).some((n) => n.label === 'synthetic-torch' && /finished/.test(String(n.description))),
      'the run listed as finished',
      10_000,
    );
    await vscode.workspace.getConfiguration('rewardlens').update('python', undefined, vscode.ConfigurationTarget.Global);
    rmSync(data, { force: true });
  });
});
