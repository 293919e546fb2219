// The shipped demo model (models/demo/) on the quick start's dataset (test/fixtures/samples/demo.test.jsonl,
// copied into the workspace): what `npm start` shows must be real scores, the ones `rewardlens score`
// computes, on the human pairs `rewardlens eval` counted when the model was built (models/demo/eval.json).
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as vscode from 'vscode';
import type { ExportManifest } from '../../../src/core/export/manifest';
import type { EvalResult } from '../../../src/core/training/types';
import type { RewardLensApi } from '../../../src/extension/main';
import { EXTENSION_ID, openEditor, waitFor } from './helpers';

const DATASET = 'demo.test.jsonl';
const run = promisify(execFile);

/** The hovers' markdown with its escapes removed (names like `relevance (…)` are escaped as `\(`). */
function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n')
    .replace(/\\(.)/g, '$1');
}

suite('RewardLens demo model', () => {
  let api: RewardLensApi;
  let model: string;
  let manifest: ExportManifest;
  let evaluation: EvalResult;
  let cli: string;
  const records = readFileSync(join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'samples', DATASET), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { category: string; responses: Array<{ ratings?: unknown[] }> });

  suiteSetup(async () => {
    const extension = vscode.extensions.getExtension<RewardLensApi>(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded`);
    api = await extension.activate();
    model = join(extension.extensionPath, 'models', 'demo', 'model.onnx');
    cli = join(extension.extensionPath, 'dist', 'cli.js');
    manifest = JSON.parse(readFileSync(join(extension.extensionPath, 'models', 'demo', 'model.manifest.json'), 'utf8')) as ExportManifest;
    evaluation = JSON.parse(readFileSync(join(extension.extensionPath, 'models', 'demo', 'eval.json'), 'utf8')) as EvalResult;
    assert.equal(await vscode.commands.executeCommand('rewardlens.selectRewardModel', model), model);
  });

  teardown(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('rewardlens.selectRewardModel', null);
    // The scoring suite counts cache entries from none.
    api.testing?.clearScoreCache();
  });

  test("CodeLens on every record: the router decision, and over the file the agreement rewardlens score computes on eval.json's pairs", async () => {
    const editor = await openEditor(DATASET);
    const uri = editor.document.uri;
    const file = uri.fsPath;
    await waitFor(() => api.report(uri), 'the dataset to be indexed');
    const titles = await waitFor(
      async () => {
        const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10_000);
        const scored = lenses.map((l) => l.command?.title ?? '').filter((t) => t.startsWith('$(git-merge) '));
        return scored.length === records.length ? scored : undefined;
      },
      `a score lens on each of the ${records.length} records`,
      60_000,
    );
    let agree = 0;
    let pairs = 0;
    let routedToOwn = 0;
    titles.forEach((title, i) => {
      const category = manifest.categories.find((c) => title.startsWith(`$(git-merge) ${c} `));
      assert.ok(category !== undefined, `record ${i + 1}: no category of the model in "${title}"`);
      if (category === records[i].category) routedToOwn++;
      const m = /[✓✗] (\d+)\/(\d+) pairs/.exec(title);
      if (m) {
        agree += Number(m[1]);
        pairs += Number(m[2]);
      }
    });
    assert.equal(pairs, evaluation.pairs, 'the lenses count the human pairs eval counted');
    // The editor scores with onnxruntime, as `rewardlens score` does: the same agreement, pair for pair.
    // (eval.json comes from the training engine, which compares σ rewards: where they saturate, pairs tie
    // there that the logits order; the model card gives both numbers.)
    const { stdout } = await run(process.execPath, [cli, 'score', model, file, '--json'], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
      maxBuffer: 1 << 26,
      timeout: 60_000,
    });
    const scored = JSON.parse(stdout) as { summary: { overall: number; pairs: number } };
    assert.equal(scored.summary.pairs, pairs);
    assert.equal(agree, Math.round(scored.summary.overall * scored.summary.pairs), `${agree}/${pairs} agree in the lenses`);
    // Chance is a third; the router reached 93% on its validation split when the model was built.
    assert.ok(routedToOwn / records.length > 0.6, `the router sends ${routedToOwn} of ${records.length} held-out records to their own category`);
  });

  test('hover on an objective-QA record: the three capability experts with bars; on a dialogue record, none', async () => {
    const editor = await openEditor(DATASET);
    const hoverAt = async (line: number, what: string): Promise<string> =>
      waitFor(
        async () => {
          const t = hoverText(
            await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, new vscode.Position(line, 2)),
          );
          return t.includes('Reward model') ? t : undefined;
        },
        what,
        30_000,
      );
    const qa = records.findIndex((r) => r.category === 'objective knowledge QA');
    const qaText = await hoverAt(qa, 'a hover with scores on a QA record');
    const points = manifest.capabilities.filter((c) => c.category === 'objective knowledge QA').map((c) => c.en);
    assert.equal(points.length, 3, 'relevance, factuality, completeness');
    for (const p of points) assert.ok(qaText.includes(p), `hover names "${p}":\n${qaText}`);
    assert.match(qaText, /Router: `[▇▁]{5}`\u00a0\d+%/);
    const dialogue = records.findIndex((r) => r.category === 'harmless dialogue');
    const dialogueText = await hoverAt(dialogue, 'a hover with scores on a dialogue record');
    // Its category has no experts: unless the router sends it to objective QA, no capability columns.
    if (!/`[▇▁]{5}`\u00a0\d+% objective knowledge QA ← routed/.test(dialogueText)) for (const p of points) assert.ok(!dialogueText.includes(p), dialogueText);
  });
});
