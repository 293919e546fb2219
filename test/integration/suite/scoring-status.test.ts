// In-host tests of the reward model's status bar item (src/extension/scoring/status-bar.ts): two tiny
// models of different methods, trained and exported by the CLI (a child process, so the extension host
// stays responsive), set one after the other in `rewardlens.scoring.model`.
import * as assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { TestingApi } from '../../../src/extension/main';
import { SYNTHETIC_CATEGORIES } from '../../support/synthetic-prefs';
import { exportModel, sharedTinyModel, trainTinyModel } from '../../support/tiny-model';
import { openEditor, testingApi, waitFor } from './helpers';

/**
 * The text a markdown tooltip shows, one line per paragraph: MarkdownString.appendText writes spaces as
 * `&nbsp;`, escapes punctuation and doubles line breaks.
 */
function shownText(markdown: string): string {
  return markdown
    .replace(/\n+/g, '\n')
    .replace(/&nbsp;/g, ' ')
    .replace(/\\([\\`*_{}[\]()#+\-.!|<>])/g, '$1');
}

async function setModelSetting(value: string | undefined): Promise<void> {
  await vscode.workspace.getConfiguration('rewardlens').update('scoring.model', value, vscode.ConfigurationTarget.Workspace);
}

suite('RewardLens reward model status bar', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-it-status-'));
  const dmoerm = join(dir, 'status-dmoerm.onnx');
  const single = join(dir, 'status-single.onnx');
  let testing: TestingApi;

  suiteSetup(async function () {
    this.timeout(90_000);
    testing = await testingApi();
    // The status bar shows the model's file name: each model is exported under a name of this suite.
    const [shared] = await Promise.all([sharedTinyModel({ method: 'dmoerm', seed: 5 }), trainTinyModel({ dir, method: 'single', seed: 5, model: single })]);
    await exportModel(shared.run, dmoerm);
    // A dataset in the active editor, as when a user looks at the status bar.
    await openEditor('hh-rlhf-harmless.sample.jsonl');
  });

  suiteTeardown(async () => {
    await setModelSetting(undefined);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // The open dataset's lenses may have been scored meanwhile (a slow machine resolves them before the
    // suite ends); the scoring suite counts cache entries from none.
    testing.clearScoreCache();
    rmSync(dir, { recursive: true, force: true });
  });

  test('shows the configured model by name, its method and categories in the tooltip; a click selects a reward model', async () => {
    await setModelSetting(dmoerm);
    const status = await waitFor(() => {
      const s = testing.rewardModelStatus();
      return s.text === '$(beaker) status-dmoerm.onnx' ? { ...s, tooltip: shownText(s.tooltip) } : undefined;
    }, 'the status bar to show the dmoerm model');
    assert.ok(status.tooltip.includes(`Reward model ${dmoerm}\ndmoerm · categories: `), status.tooltip);
    for (const category of Object.keys(SYNTHETIC_CATEGORIES)) assert.ok(status.tooltip.includes(category), `tooltip names ${category}: ${status.tooltip}`);
    assert.equal(status.command, 'rewardlens.selectRewardModel');
    assert.ok((await vscode.commands.getCommands(true)).includes(status.command), 'the command is registered');
  });

  test('follows rewardlens.scoring.model: another model, a missing file, and the item command setting it back', async () => {
    await setModelSetting(single);
    const status = await waitFor(() => {
      const s = testing.rewardModelStatus();
      return s.text === '$(beaker) status-single.onnx' ? { ...s, tooltip: shownText(s.tooltip) } : undefined;
    }, 'the status bar to show the single model');
    assert.ok(status.tooltip.includes(`Reward model ${single}\nsingle\n`), status.tooltip);
    assert.ok(!status.tooltip.includes('categories'), `a single model has no router categories: ${status.tooltip}`);

    const missing = join(dir, 'gone.onnx');
    await setModelSetting(missing);
    const broken = await waitFor(() => {
      const s = testing.rewardModelStatus();
      return s.text === '$(warning) gone.onnx' ? { ...s, tooltip: shownText(s.tooltip) } : undefined;
    }, 'the status bar to show the missing model as unusable');
    assert.ok(broken.tooltip.startsWith(`Reward model ${missing} cannot be used: `), broken.tooltip);
    assert.match(broken.tooltip, /manifest not found/);

    // What a click runs: the item's command, here with the file the quick pick would return.
    assert.equal(await vscode.commands.executeCommand(broken.command!, dmoerm), dmoerm);
    assert.equal(testing.rewardModel().file, dmoerm);
    await waitFor(() => testing.rewardModelStatus().text === '$(beaker) status-dmoerm.onnx', 'the status bar to follow the command');
  });
});
