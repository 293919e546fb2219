// In-host test of "Start Reward Server…" / "Stop Reward Server" (src/extension/scoring/reward-server.ts):
// the demo model served by `rewardlens serve` in a child process, reached over HTTP as OpenRLHF reaches it.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { EXTENSION_ID, activateExtension, workspaceFolder } from './helpers';

suite('RewardLens reward server', () => {
  const logDir = join(workspaceFolder().fsPath, '.rewardlens', 'serve');

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('rewardlens.stopRewardServer');
    rmSync(logDir, { recursive: true, force: true });
  });

  test('starts on a free port, answers /health and /get_reward, logs, and stops', async function () {
    this.timeout(60_000);
    await activateExtension();
    const model = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'models', 'demo', 'model.onnx');
    const url = await vscode.commands.executeCommand<string | undefined>('rewardlens.startRewardServer', { port: 0, model });
    assert.ok(url, 'no URL from the start command');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(await (await fetch(`${url}/health`)).json(), { status: 'ok' });
    const query = '<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\nParis.<|im_end|>';
    const res = await fetch(`${url}/get_reward`, { method: 'POST', body: JSON.stringify({ query: [query, query] }) });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { rewards: number[] };
    assert.equal(body.rewards.length, 2);
    assert.equal(body.rewards[0], body.rewards[1]);
    const log = join(logDir, 'requests.jsonl');
    assert.ok(existsSync(log), 'no request log in the workspace');
    assert.equal(readFileSync(log, 'utf8').trim().split('\n').length, 2);
    assert.equal(await vscode.commands.executeCommand('rewardlens.stopRewardServer'), true);
    await assert.rejects(fetch(`${url}/health`));
  });
});
