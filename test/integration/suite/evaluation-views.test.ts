// In-host tests of the analysis views: the evaluation report (Table 3 from every run's eval.json, one
// table per test set, and a run's curves) on a tiny `single` run trained by the CLI plus hand-written
// run folders; the disagreement explorer on a synthetic dataset with capability labels written here,
// scored by that run's exported model and checked against scoreFile.
import * as assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { PreferenceRecord } from '../../../src/core/dataset/record';
import { recordId } from '../../../src/core/dataset/record-id';
import { storeFileFor } from '../../../src/core/labelling/store';
import { scoreFile } from '../../../src/core/scoring/score-file';
import type { EvalResult } from '../../../src/core/training/types';
import { humanPairs } from '../../../src/core/training/pairs';
import type { RewardLensApi, TestingApi } from '../../../src/extension/main';
import { writeSyntheticPreferences } from '../../support/synthetic-prefs';
import { trainTinyModel } from '../../support/tiny-model';
import { activateExtension, openEditor, waitFor, workspaceFile, workspaceFolder } from './helpers';

const DATASET = 'disagreements-synthetic.jsonl';
const XSS = '<img src=x onerror=alert(1)>';
/** A category name that would run script if it were ever parsed as HTML. */
const HOSTILE_CATEGORY = `chat${XSS}`;
const FAST = ['maxSteps.base=10', 'evalEvery=5', 'minPairs=8'];
const POINTS = ['correctness', 'fluency'];

interface LabelPlan {
  /** Record ids whose capability labels all prefer the human loser. */
  against: Set<string>;
}

/**
 * Capability labels for every human pair of the dataset, as a ratings source would store them: for
 * records at even positions both points prefer the human loser (label-noise candidates wherever the
 * model disagrees), at odd positions both prefer the human winner; plus an inconsistent label that
 * must not count.
 */
function writeLabels(file: string, store: string): LabelPlan {
  const against = new Set<string>();
  const lines: string[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .forEach((raw, index) => {
      const record = JSON.parse(raw) as PreferenceRecord;
      const contradict = index % 2 === 0;
      if (contradict) against.add(record.id);
      for (const { winner, loser } of humanPairs(record, index).pairs) {
        const [a, b] = winner < loser ? [winner, loser] : [loser, winner];
        for (const point of POINTS) {
          lines.push(
            JSON.stringify({
              type: 'label',
              key: `test|${record.id}|${a}|${b}|${point}`,
              setup: 'test',
              record: record.id,
              index,
              category: record.category,
              a,
              b,
              point,
              source: 'ratings:test',
              result: 'consistent',
              winner: contradict ? loser : winner,
              ts: '2026-01-01T00:00:00Z',
            }),
          );
        }
        lines.push(
          JSON.stringify({
            type: 'label',
            key: `test|${record.id}|${a}|${b}|safety`,
            setup: 'test',
            record: record.id,
            index,
            category: record.category,
            a,
            b,
            point: 'safety',
            source: 'ratings:test',
            result: 'inconsistent',
            winner: null,
            ts: '2026-01-01T00:00:00Z',
          }),
        );
      }
    });
  mkdirSync(join(store, '..'), { recursive: true });
  writeFileSync(store, lines.join('\n') + '\n');
  return { against };
}

suite('RewardLens evaluation views', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-it-eval-'));
  const runs = join(workspaceFolder().fsPath, '.rewardlens', 'runs');
  const trained = join(runs, 'eval-views-single');
  const sameTestSet = join(runs, 'eval-views-mean');
  const otherTestSet = join(runs, 'eval-views-other');
  const model = join(dir, 'model.onnx');
  let testing: TestingApi;
  let api: RewardLensApi;
  let plan: LabelPlan;
  let hostileIds: string[];

  suiteSetup(async function () {
    this.timeout(90_000);
    api = await activateExtension();
    assert.ok(api.testing, 'the test hooks exist only in ExtensionMode.Test');
    testing = api.testing;
    // Its own run: the run folder sits among hand-written ones in the workspace and is removed after.
    await trainTinyModel({ dir, method: 'single', seed: 5, records: 60, settings: FAST, run: trained, model });

    // Another method on the same held-out records (same data hash, seed and fraction), and a run on other data.
    const config = JSON.parse(readFileSync(join(trained, 'run.json'), 'utf8')) as Record<string, unknown>;
    const evaluated = (JSON.parse(readFileSync(join(trained, 'eval.json'), 'utf8')) as EvalResult[])[0];
    mkdirSync(sameTestSet, { recursive: true });
    writeFileSync(join(sameTestSet, 'run.json'), JSON.stringify({ ...config, method: 'mean' }));
    writeFileSync(join(sameTestSet, 'state.json'), JSON.stringify({ completed: ['base'], finished: true }));
    const better = (x: number | null): number | null => (x === null ? null : Math.min(1, x + 0.01));
    writeFileSync(
      join(sameTestSet, 'eval.json'),
      JSON.stringify([
        {
          method: 'mean',
          overall: better(evaluated.overall),
          pairs: evaluated.pairs,
          byCategory: Object.fromEntries(Object.entries(evaluated.byCategory).map(([c, v]) => [c, { accuracy: better(v.accuracy), pairs: v.pairs }])),
        },
      ]),
    );
    mkdirSync(otherTestSet, { recursive: true });
    writeFileSync(
      join(otherTestSet, 'run.json'),
      JSON.stringify({
        method: 'dmoerm',
        dataset: join(dir, 'elsewhere.jsonl'),
        datasetSha256: 'feedc0de'.repeat(8),
        seed: 1,
        hyperParams: { testFraction: 0.2 },
      }),
    );
    writeFileSync(join(otherTestSet, 'state.json'), JSON.stringify({ completed: ['base'], finished: true }));
    writeFileSync(
      join(otherTestSet, 'eval.json'),
      JSON.stringify([{ method: 'dmoerm', overall: 0.99, pairs: 40, byCategory: { [HOSTILE_CATEGORY]: { accuracy: 0.99, pairs: 40 } } }]),
    );
    writeFileSync(
      join(otherTestSet, 'metrics.jsonl'),
      [10, 20, 30].map((step) => JSON.stringify({ ts: '2026-01-01T00:00:00Z', phase: 'base', step, loss: 1 / step, valAcc: 0.5 + step / 100 })).join('\n') +
        '\n',
    );

    // The explorer's dataset: synthetic records, then two responses (both holding markup) in both
    // orders, the first preferred each time: whatever the model says, one of the two pairs is listed.
    const file = workspaceFile(DATASET).fsPath;
    writeSyntheticPreferences(file, 12, 41);
    hostileIds = [];
    const texts = [`fine ${XSS}`, `${XSS} not fine at all`];
    for (const order of [texts, [...texts].reverse()]) {
      const hostile = {
        category: HOSTILE_CATEGORY,
        context: [{ role: 'user', content: 'Say something' }],
        responses: order.map((text) => ({ text })),
        preference: { ranking: [1, 2] },
      };
      const id = recordId(hostile as Parameters<typeof recordId>[0]);
      hostileIds.push(id);
      appendFileSync(file, JSON.stringify({ id, ...hostile }) + '\n');
    }
    plan = writeLabels(file, storeFileFor(file));
  });

  teardown(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('rewardlens.selectRewardModel', null);
    for (const d of [trained, sameTestSet, otherTestSet]) rmSync(d, { recursive: true, force: true });
    const file = workspaceFile(DATASET).fsPath;
    rmSync(storeFileFor(file), { force: true });
    rmSync(file, { force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  test('the evaluation report tables every run’s eval.json, one table per test set, best per column', async () => {
    await vscode.commands.executeCommand('rewardlens.showEvaluationReport');
    const data = await waitFor(
      () => {
        const d = testing.analysis.evaluationReport()?.data;
        const dirs = new Set(d?.report.groups.flatMap((g) => g.rows.map((r) => r.dir)));
        return [trained, sameTestSet, otherTestSet].every((x) => dirs.has(x)) ? d : undefined;
      },
      'the report webview to be ready and list the three runs',
      15_000,
    );
    const groupOf = (runDir: string) => data.report.groups.find((g) => g.rows.some((r) => r.dir === runDir))!;
    // The same held-out records share a table; other data never joins it.
    assert.equal(groupOf(trained), groupOf(sameTestSet));
    assert.notEqual(groupOf(trained), groupOf(otherTestSet));
    assert.match(groupOf(trained).testSet.label, /^held-out 20% of train\.jsonl \(seed 5\) · data [0-9a-f]{8}$/);

    for (const runDir of [trained, sameTestSet, otherTestSet]) {
      const g = groupOf(runDir);
      const row = g.rows.find((r) => r.dir === runDir)!;
      const evaluation = (JSON.parse(readFileSync(join(runDir, 'eval.json'), 'utf8')) as EvalResult[])[0];
      assert.equal(row.method, evaluation.method);
      assert.deepEqual([row.overall.accuracy, row.overall.pairs], [evaluation.overall, evaluation.pairs]);
      for (const [category, v] of Object.entries(evaluation.byCategory)) {
        const i = g.categories.indexOf(category);
        assert.ok(i >= 0, `${runDir}: column ${category} in ${g.categories.join(', ')}`);
        assert.deepEqual([row.cells[i]?.accuracy, row.cells[i]?.pairs], [v.accuracy, v.pairs], `${runDir} ${category}`);
      }
    }
    // The hand-written `mean` run is 1 point better everywhere: it holds every best of the shared table.
    const shared = groupOf(trained);
    const mean = shared.rows.find((r) => r.dir === sameTestSet)!;
    const single = shared.rows.find((r) => r.dir === trained)!;
    assert.equal(mean.overall.best, true);
    assert.equal(single.overall.best, false);
    // Alone in its table, the other run's 99% is nobody's best.
    assert.equal(groupOf(otherTestSet).rows.find((r) => r.dir === otherTestSet)!.overall.best, false);
    assert.deepEqual(groupOf(otherTestSet).categories, [HOSTILE_CATEGORY]);
  });

  test('the evaluation report shows the curves of the run asked for (metrics.jsonl)', async () => {
    await vscode.commands.executeCommand('rewardlens.showEvaluationReport', otherTestSet);
    const curves = await waitFor(
      () => {
        const c = testing.analysis.evaluationReport()?.curves;
        return c?.run === otherTestSet ? c : undefined;
      },
      'the curves of the other run',
      15_000,
    );
    assert.deepEqual(
      curves.points.map((p) => [p.phase, p.step, p.valAcc]),
      [
        ['base', 10, 0.6],
        ['base', 20, 0.7],
        ['base', 30, 0.8],
      ],
    );
    // The trained run's own metrics, as the CLI wrote them.
    await vscode.commands.executeCommand('rewardlens.showEvaluationReport', trained);
    const own = await waitFor(
      () => {
        const c = testing.analysis.evaluationReport()?.curves;
        return c?.run === trained ? c : undefined;
      },
      'the curves of the trained run',
      15_000,
    );
    const lines = readFileSync(join(trained, 'metrics.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '');
    assert.equal(own.points.length, lines.length);
    assert.ok(own.points.some((p) => p.phase === 'base' && typeof p.valAcc === 'number'));
  });

  /** Opens the explorer on the dataset with the trained model (every test closes all editors after it). */
  async function explore(): Promise<NonNullable<ReturnType<TestingApi['analysis']['disagreements']>>> {
    if (vscode.workspace.getConfiguration('rewardlens').get('scoring.model') !== model)
      assert.equal(await vscode.commands.executeCommand('rewardlens.selectRewardModel', model), model);
    const editor = await openEditor(DATASET);
    await waitFor(() => api.report(editor.document.uri), 'the dataset to be indexed');
    const result = await vscode.commands.executeCommand<{ outcome: string }>('rewardlens.showDisagreements', editor.document.uri);
    assert.equal(result.outcome, 'scored', JSON.stringify(result));
    const state = testing.analysis.disagreements();
    assert.ok(state?.summary, 'the explorer holds what it scored');
    return state;
  }

  test('the disagreement explorer lists exactly the human pairs the model orders the other way, by margin', async function () {
    this.timeout(60_000);
    const state = await explore();
    const rows = state.rows;
    const uri = workspaceFile(DATASET);

    // The same model through scoreFile: a pair is listed exactly when its winner is not rewarded higher.
    const file = uri.fsPath;
    const expected = await scoreFile(model, file);
    const records = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as PreferenceRecord);
    const want = new Set<string>();
    let pairs = 0;
    for (const s of expected.records) {
      for (const p of humanPairs(records[s.index], s.index).pairs) {
        pairs++;
        if (!(s.logits[p.winner] > s.logits[p.loser])) want.add(`${s.index}:${p.winner}>${p.loser}`);
      }
    }
    assert.deepEqual(new Set(rows.map((r) => `${r.index}:${r.humanWinner}>${r.humanLoser}`)), want);
    assert.equal(rows.length, want.size);
    assert.equal(
      rows.length,
      expected.records.reduce((n, s) => n + s.agreement.pairs - s.agreement.agree, 0),
    );
    assert.deepEqual([state.summary?.pairs, state.summary?.disagreements], [pairs, rows.length]);
    assert.ok(rows.length > 0, 'the hostile pair under opposite rankings guarantees a row');
    for (const r of rows) {
      const s = expected.records.find((x) => x.index === r.index)!;
      assert.ok(Math.abs(r.margin - (s.logits[r.humanLoser] - s.logits[r.humanWinner])) < 1e-6);
      assert.equal(r.line, r.index + 1);
    }
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1].margin >= rows[i].margin, 'most confident first');
  });

  test('label-noise flags follow the consistent capability verdicts; filters and pages come from the host', async () => {
    const state = await explore();
    assert.ok(state.summary);
    const rows = state.rows;
    for (const r of rows) {
      const contradicting = plan.against.has(r.id);
      assert.equal(r.labelNoise, contradicting, `${r.id}: ${JSON.stringify(r.verdicts)}`);
      // Two consistent points each; the inconsistent `safety` label is not a verdict.
      assert.deepEqual(
        r.verdicts.map((v) => [v.point, v.withModel]),
        POINTS.map((p) => [p, contradicting]),
      );
    }
    assert.equal(state.summary.labelNoise, rows.filter((r) => r.labelNoise).length);
    assert.ok(rows.some((r) => r.labelNoise) && rows.some((r) => !r.labelNoise), 'both kinds of row are listed, so the flag is tested both ways');

    const noise = testing.analysis.disagreementsPage({ offset: 0, labelNoiseOnly: true })!;
    assert.equal(noise.total, rows.filter((r) => r.labelNoise).length);
    assert.ok(noise.rows.every((r) => r.labelNoise));
    const hostile = testing.analysis.disagreementsPage({ offset: 0, category: HOSTILE_CATEGORY, labelNoiseOnly: false })!;
    assert.equal(hostile.total, rows.filter((r) => r.datasetCategory === HOSTILE_CATEGORY).length);
    assert.ok(hostile.total >= 1);
    // Dataset text goes to the webview as it is (the webview makes text nodes of it), never escaped or parsed here.
    const listed = hostile.rows.find((r) => hostileIds.includes(r.id))!;
    assert.ok(listed.winnerText.includes(XSS) && listed.loserText.includes(XSS), `${listed.winnerText} | ${listed.loserText}`);
    assert.equal(listed.datasetCategory, HOSTILE_CATEGORY);
  });

  test('a row opens its record’s line; Export writes one JSON object per listed pair', async () => {
    const { rows } = await explore();
    await testing.analysis.revealDisagreement(0);
    const editor = await waitFor(
      () => (vscode.window.activeTextEditor?.document.uri.fsPath === workspaceFile(DATASET).fsPath ? vscode.window.activeTextEditor : undefined),
      'the dataset in an editor',
    );
    assert.equal(editor.selection.active.line, rows[0].line - 1);

    const out = join(dir, 'disagreements.jsonl');
    assert.equal(await testing.analysis.exportDisagreements(out), rows.length);
    const lines = readFileSync(out, 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'ends with a newline');
    const objects = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      objects.map((o) => [o.record, o.line, o.a, o.b, o.humanWinner, o.labelNoise]),
      rows.map((r) => [r.id, r.line, r.a, r.b, r.humanWinner, r.labelNoise]),
    );
    for (const [i, o] of objects.entries()) {
      assert.deepEqual(o.rewards, rows[i].rewards);
      assert.equal(o.margin, rows[i].margin);
      assert.equal(o.confidence, rows[i].confidence);
      assert.equal((o.verdicts as unknown[]).length, rows[i].verdicts.length);
    }
    const onlyNoise = join(dir, 'noise.jsonl');
    assert.equal(await testing.analysis.exportDisagreements(onlyNoise, { labelNoiseOnly: true }), rows.filter((r) => r.labelNoise).length);
  });
});
