import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { EXTENSION_ID, openEditor, waitFor } from './helpers';

suite('RewardLens extension', () => {
  teardown(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  test('is loaded from the working tree in development mode', () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded`);
    assert.equal((extension.packageJSON as { name?: unknown }).name, 'rewardlens');
  });

  test('activates when a .jsonl file is opened', async () => {
    const editor = await openEditor('hh-rlhf-harmless.sample.jsonl');
    assert.ok(editor.document.lineCount > 1, 'the sample should have several records');
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded`);
    try {
      await waitFor(() => extension.isActive, `${EXTENSION_ID} to activate`);
    } catch (timeout) {
      await extension.activate(); // rethrows the activation error, if that is why
      throw timeout;
    }
  });

  test('registers rewardlens.openDataset', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('rewardlens.openDataset'), 'rewardlens.openDataset is not registered');
  });
});
