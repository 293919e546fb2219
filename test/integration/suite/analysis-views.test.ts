// In-host tests of the analysis views: the reward breakdown (opened from the score lens) and best-of-n,
// on the tiny dmoerm that scoring.test.ts also uses (test/support/tiny-model.ts) and a synthetic dataset
// of the workspace with one hostile record.
import * as assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { recordId } from '../../../src/core/dataset/record-id';
import type { ExportManifest } from '../../../src/core/export/manifest';
import { manifestFileFor } from '../../../src/core/export/manifest';
import type { RewardLensApi, TestingApi } from '../../../src/extension/main';
import { writeSyntheticPreferences } from '../../support/synthetic-prefs';
import { sharedTinyModel } from '../../support/tiny-model';
import { EXTENSION_ID, openEditor, waitFor, workspaceFile } from './helpers';

const DATASET = 'analysis-synthetic.jsonl';
const RECORDS = 6;
const XSS_SCRIPT = '<script>window.pwned = 1</script>';
const XSS_IMG = '<img src=x onerror=alert(1)>';

function webviewTab(viewType: string): vscode.Tab | undefined {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(viewType));
}

function argmax(xs: readonly number[]): number {
  return xs.reduce((best, x, i) => (x > xs[best] ? i : best), 0);
}

suite('RewardLens analysis views', () => {
  let model: string;
  let testing: TestingApi;
  let api: RewardLensApi;
  let extensionPath: string;
  let uri: vscode.Uri;

  suiteSetup(async function () {
    this.timeout(60_000);
    const extension = vscode.extensions.getExtension<RewardLensApi>(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded`);
    extensionPath = extension.extensionPath;
    api = await extension.activate();
    assert.ok(api.testing, 'the test hooks exist only in ExtensionMode.Test');
    testing = api.testing;
    const trained = await sharedTinyModel({ method: 'dmoerm', seed: 5 });
    model = trained.model;

    const file = workspaceFile(DATASET).fsPath;
    writeSyntheticPreferences(file, RECORDS, 32);
    // A record whose context and response would run script if a view rendered them as HTML.
    const first = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]) as { category: string; responses: Array<{ text: string }> };
    const hostile = {
      category: first.category,
      context: [{ role: 'user', content: `Explain ${XSS_SCRIPT}` }],
      responses: [{ text: XSS_IMG }, first.responses[1]],
      preference: { ranking: [2, 1] },
    };
    appendFileSync(file, JSON.stringify({ id: recordId(hostile as Parameters<typeof recordId>[0]), ...hostile }) + '\n');
    assert.equal(await vscode.commands.executeCommand('rewardlens.selectRewardModel', model), model);
    uri = workspaceFile(DATASET);
  });

  teardown(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('rewardlens.selectRewardModel', null);
    // The score cache outlives models (switching back keeps scores): suites that count its entries start from none.
    testing.clearScoreCache();
    rmSync(workspaceFile(DATASET).fsPath, { force: true });
  });

  test('the score lens opens the reward breakdown: a column per response, a row per capability point of the routed category', async () => {
    const editor = await openEditor(DATASET);
    await waitFor(() => api.report(editor.document.uri), 'the dataset to be indexed');
    const lens = await waitFor(
      async () => {
        const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
        return lenses.find((l) => l.range.start.line === 1 && /R\d [+-]?\d/.test(l.command?.title ?? ''));
      },
      'the score lens of record 2',
      30_000,
    );
    assert.equal(lens.command?.command, 'rewardlens.showRewardBreakdown');
    assert.deepEqual(lens.command.arguments, [uri.toString(), 1]);
    await vscode.commands.executeCommand(lens.command.command, ...lens.command.arguments);
    const data = await waitFor(
      () => (testing.rewardBreakdown()?.data?.index === 1 ? testing.rewardBreakdown()?.data : undefined),
      'the breakdown of record 2',
      15_000,
    );
    await waitFor(() => webviewTab('rewardlens.rewardBreakdown'), 'the reward breakdown tab');

    const manifest = JSON.parse(readFileSync(manifestFileFor(model), 'utf8')) as ExportManifest;
    assert.equal(data.model.method, 'dmoerm');
    assert.equal(data.line, 2);
    assert.equal(data.columns.length, 3, 'one column per response');
    assert.deepEqual(
      data.columns.map((c) => c.index),
      [0, 1, 2],
    );
    assert.equal(data.responses.length, 3);
    assert.ok(data.router, 'a dmoerm has a router');
    assert.deepEqual(data.router.categories.map((c) => c.name).sort(), [...manifest.categories].sort());
    const points = manifest.capabilities.filter((c) => c.category === data.router!.chosen);
    assert.ok(points.length > 0, `the manifest has capability points for ${data.router.chosen}`);
    assert.deepEqual(
      data.capabilities.map((c) => c.key),
      points.map((c) => c.point),
      'one row per capability point',
    );
    for (const row of data.capabilities) assert.equal(row.scores.length, 3, `${row.key}: a score per response`);
    // The columns carry the rewards the editor's model gives, ranked.
    const rewards = await testing.scoreRecord(uri, 1);
    assert.deepEqual(
      data.columns.map((c) => c.reward),
      rewards,
    );
    assert.equal(data.columns.find((c) => c.rewardRank === 1)?.index, argmax(rewards!));
    // The ratings stored on the responses come along.
    assert.deepEqual(
      data.responses[0].ratings.map((r) => r.aspect),
      ['Correctness', 'Fluency'],
    );
  });

  test('from the palette: the record at the cursor; retargeted, and rescored when the model changes', async () => {
    const editor = await openEditor(DATASET);
    await waitFor(() => api.report(editor.document.uri), 'the dataset to be indexed');
    editor.selection = new vscode.Selection(3, 4, 3, 4);
    assert.deepEqual(await vscode.commands.executeCommand('rewardlens.showRewardBreakdown'), { uri: uri.toString(), index: 3 });
    await waitFor(() => testing.rewardBreakdown()?.data?.index === 3, 'the breakdown of record 4', 15_000);
    await vscode.commands.executeCommand('rewardlens.showRewardBreakdown', uri, 4);
    await waitFor(() => testing.rewardBreakdown()?.data?.index === 4, 'the same panel on record 5', 15_000);
    assert.equal(
      vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .filter((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith('rewardlens.rewardBreakdown')).length,
      1,
      'one panel',
    );

    await vscode.commands.executeCommand('rewardlens.selectRewardModel', null);
    await waitFor(() => /No reward model/.test(testing.rewardBreakdown()?.message ?? ''), 'the panel to say there is no model');
    await vscode.commands.executeCommand('rewardlens.selectRewardModel', model);
    await waitFor(() => testing.rewardBreakdown()?.data?.index === 4, 'the breakdown again with the model back', 15_000);
  });

  test('a record holding markup reaches the webview as raw text, and the webview renders it as text only', async () => {
    await openEditor(DATASET);
    await vscode.commands.executeCommand('rewardlens.showRewardBreakdown', uri.toString(), RECORDS);
    const data = await waitFor(
      () => (testing.rewardBreakdown()?.data?.index === RECORDS ? testing.rewardBreakdown()?.data : undefined),
      'the breakdown of the hostile record',
      15_000,
    );
    assert.equal(data.responses[0].text, XSS_IMG);
    assert.equal(data.context[0].content, `Explain ${XSS_SCRIPT}`);
    assert.equal(data.columns.length, 2);
    // The host posts the raw string; the webview builds Text nodes (lib/dom's h appends strings with
    // createTextNode) and never parses HTML.
    const source = readFileSync(join(extensionPath, 'webview', 'reward-breakdown.ts'), 'utf8');
    assert.doesNotMatch(source, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser/);
    assert.match(source, /from '\.\/lib\/dom'/);
    assert.match(readFileSync(join(extensionPath, 'webview', 'lib', 'dom.ts'), 'utf8'), /document\.createTextNode\(String\(c\)\)/);
    assert.doesNotMatch(
      readFileSync(join(extensionPath, 'webview', 'best-of-n.ts'), 'utf8'),
      /innerHTML|outerHTML|insertAdjacentHTML|document\.write|DOMParser/,
    );
  });

  test('best-of-n: each record’s pick is the argmax of the rewards the scorer reports; KL_bon per n', async () => {
    const editor = await openEditor(DATASET);
    await waitFor(() => api.report(editor.document.uri), 'the dataset to be indexed');
    assert.deepEqual(await vscode.commands.executeCommand('rewardlens.showBestOfN', uri, { models: [model] }), { uri: uri.toString(), models: [model] });
    const state = await waitFor(
      () => {
        const s = testing.bestOfN();
        return s?.header?.state === 'done' || s?.header?.state === 'failed' ? s : undefined;
      },
      'best-of-n to finish',
      30_000,
    );
    assert.equal(state.header?.state, 'done', state.header?.message);
    await waitFor(() => webviewTab('rewardlens.bestOfN'), 'the best-of-n tab');
    assert.equal(state.header.eligible, RECORDS + 1);
    assert.deepEqual(
      state.picks.map((p) => p.index),
      [...Array(RECORDS + 1).keys()],
    );
    for (const p of state.picks) {
      const rewards = await testing.scoreRecord(uri, p.index);
      assert.ok(rewards, `record ${p.index + 1} scored`);
      assert.deepEqual(p.picks, [argmax(rewards)], `record ${p.index + 1}: rewards ${rewards.join(', ')}`);
    }
    const summary = state.header.summary!;
    assert.deepEqual(
      summary.byN.map((g) => [g.n, g.records]),
      [
        [2, 1],
        [3, RECORDS],
      ],
    );
    for (const g of summary.byN) assert.ok(Math.abs(g.kl - (Math.log(g.n) - (g.n - 1) / g.n)) < 1e-12);
    // Hits counted from the file's rankings: the pick has the best rank of a record not all tied.
    const rankings = readFileSync(uri.fsPath, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { preference: { ranking: number[] } }).preference.ranking);
    const judged = rankings.filter((r) => new Set(r).size > 1);
    const hits = state.picks.filter((p) => new Set(rankings[p.index]).size > 1 && rankings[p.index][p.picks[0]!] === Math.min(...rankings[p.index]));
    assert.deepEqual([summary.models[0].hits, summary.models[0].judged], [hits.length, judged.length]);
    const meanRank = state.picks.reduce((sum, p) => sum + rankings[p.index][p.picks[0]!], 0) / state.picks.length;
    assert.ok(Math.abs(summary.models[0].meanRank! - meanRank) < 1e-12);
  });
});
