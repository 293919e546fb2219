// In-host tests of scores in the editor: a tiny dmoerm model trained and exported by the CLI (shared with
// the other suites of the same settings, test/support/tiny-model.ts), set as the reward model, then
// CodeLens and hovers on a synthetic dataset of the workspace.
import * as assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync } from 'node:fs';
import * as vscode from 'vscode';
import { recordId } from '../../../src/core/dataset/record-id';
import type { RewardLensApi, TestingApi } from '../../../src/extension/main';
import { SYNTHETIC_CATEGORIES, writeSyntheticPreferences } from '../../support/synthetic-prefs';
import { sharedTinyModel } from '../../support/tiny-model';
import { EXTENSION_ID, openEditor, waitFor, workspaceFile } from './helpers';

const DATASET = 'scoring-synthetic.jsonl';
const RECORDS = 6;
const XSS = '<img src=x onerror=alert(1)>';

function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n');
}

suite('RewardLens scores in the editor', () => {
  let model: string;
  let trainingData: string;
  let testing: TestingApi;
  let api: RewardLensApi;

  suiteSetup(async function () {
    this.timeout(60_000);
    const extension = vscode.extensions.getExtension<RewardLensApi>(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded`);
    api = await extension.activate();
    assert.ok(api.testing, 'the test hooks exist only in ExtensionMode.Test');
    testing = api.testing;
    const trained = await sharedTinyModel({ method: 'dmoerm', seed: 5 });
    model = trained.model;
    trainingData = trained.dataset;

    const file = workspaceFile(DATASET).fsPath;
    writeSyntheticPreferences(file, RECORDS, 22);
    // A record whose response would run script if the hover rendered it as HTML.
    const first = JSON.parse(readFileSync(file, 'utf8').split('\n')[0]) as {
      category: string;
      context: unknown;
      responses: Array<{ text: string }>;
      preference: unknown;
    };
    const hostile = {
      category: first.category,
      context: first.context,
      responses: [{ text: `fine ${XSS}` }, first.responses[1]],
      preference: { ranking: [2, 1] },
    };
    appendFileSync(file, JSON.stringify({ id: recordId(hostile as Parameters<typeof recordId>[0]), ...hostile }) + '\n');
  });

  teardown(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('rewardlens.selectRewardModel', null);
    rmSync(workspaceFile(DATASET).fsPath, { force: true });
  });

  test('selecting a model stores it; the session is created on first use, not before', async () => {
    assert.equal(await vscode.commands.executeCommand('rewardlens.selectRewardModel', model), model);
    assert.equal(vscode.workspace.getConfiguration('rewardlens').get('scoring.model'), model);
    assert.deepEqual(testing.rewardModel(), { file: model, sessionLoaded: false, sessionRuns: 0, cachedScores: 0 });
    // A file that is no exported model is refused, and the setting kept.
    assert.equal(await vscode.commands.executeCommand('rewardlens.selectRewardModel', trainingData), undefined);
    assert.equal(testing.rewardModel().file, model);
  });

  test('CodeLens: router decision and a reward per response, best first, with agreement, on every record line', async () => {
    const editor = await openEditor(DATASET);
    const uri = editor.document.uri;
    await waitFor(() => api.report(uri), 'the dataset to be indexed');
    const scoreTitles = await waitFor(
      async () => {
        const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
        const titles = lenses.filter((l) => /R\d [+-]?\d/.test(l.command?.title ?? '')).map((l) => [l.range.start.line, l.command!.title] as const);
        return titles.length === RECORDS + 1 ? new Map(titles) : undefined;
      },
      'a score lens on every record',
      30_000,
    );
    const categories = Object.keys(SYNTHETIC_CATEGORIES).join('|');
    for (let line = 0; line <= RECORDS; line++) {
      const title = scoreTitles.get(line) ?? '';
      const responses = line === RECORDS ? 2 : 3;
      assert.match(title, new RegExp(`^\\$\\(git-merge\\) (${categories}) \\d+% · `), `line ${line}: ${title}`);
      assert.equal(title.match(/R\d [+-]?\d+\.\d{2}/g)?.length, responses, `line ${line}: one reward per response: ${title}`);
      assert.match(title, /· [✓✗] \d+\/\d+ pairs, top [+-]?\d+\.\d{2}$/, `line ${line}: ${title}`);
    }
    const state = testing.rewardModel();
    assert.ok(state.sessionLoaded, 'scoring opened the session');
    assert.equal(state.cachedScores, RECORDS + 1);
    // The lenses resolved together went to the model together (one run per lens would be 7).
    assert.ok(state.sessionRuns <= 2, `${state.sessionRuns} session runs for ${RECORDS + 1} lenses`);
    // Asking again is answered from the cache.
    await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
    assert.equal(testing.rewardModel().sessionRuns, state.sessionRuns);
  });

  test('hover: capability scores with bars, router probabilities, rewards and human ranks', async () => {
    const editor = await openEditor(DATASET);
    const text = await waitFor(
      async () => {
        const t = hoverText(
          await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, new vscode.Position(1, 2)),
        );
        return t.includes('Reward model') ? t : undefined;
      },
      'a hover with scores',
      15_000,
    );
    assert.match(text, /Router: `[▇▁]{5}`\u00a0\d+% (objective|subjective) knowledge QA ← routed · `[▇▁]{5}`\u00a0\d+%/);
    assert.match(text, /\| response \| reward logit \| correctness \| fluency \| human rank \|/);
    const rows = text.match(/^\| R\d \| `[▇▁]{5}`\u00a0[+-]?\d+\.\d{2} \| `[▇▁]{5}`\u00a0\d\.\d{3} \| `[▇▁]{5}`\u00a0\d\.\d{3} \| \d \|$/gm) ?? [];
    assert.equal(rows.length, 3, text);
  });

  test('hover: a response holding HTML is shown escaped, never as markup', async () => {
    const editor = await openEditor(DATASET);
    const text = await waitFor(
      async () => {
        const t = hoverText(
          await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, new vscode.Position(RECORDS, 2)),
        );
        return t.includes('Reward model') ? t : undefined;
      },
      'a hover with scores on the hostile record',
      15_000,
    );
    assert.ok(text.includes('\\<img src=x onerror=alert\\(1\\)\\>'), text);
    assert.ok(!/(^|[^\\])<img/.test(text), 'no unescaped tag');
  });

  test('clearing the model disposes its session and removes the score lenses', async () => {
    await vscode.commands.executeCommand('rewardlens.selectRewardModel', null);
    assert.deepEqual(testing.rewardModel(), { file: undefined, sessionLoaded: false, sessionRuns: 0, cachedScores: RECORDS + 1 });
    const editor = await openEditor(DATASET);
    await waitFor(async () => {
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri);
      return lenses.length === RECORDS + 1;
    }, 'one lens per record again');
  });
});
