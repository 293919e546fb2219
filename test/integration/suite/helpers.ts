// Small helpers for in-host tests. Not a test file itself (only `*.test.ts` files are run).
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { RewardLensApi, TestingApi } from '../../../src/extension/main';

export const EXTENSION_ID = 'rewardlens.rewardlens';

/** The extension's API, activating it if needed. */
export async function activateExtension(): Promise<RewardLensApi> {
  const extension = vscode.extensions.getExtension<RewardLensApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not loaded`);
  return extension.activate();
}

/** The test hooks of the extension's API (present only in ExtensionMode.Test). */
export async function testingApi(): Promise<TestingApi> {
  const api = await activateExtension();
  assert.ok(api.testing, 'the test hooks exist only in ExtensionMode.Test');
  return api.testing;
}

/** The folder the tests run in: a throw-away copy of test/fixtures/samples. */
export function workspaceFolder(): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('the tests expect a workspace folder (a copy of test/fixtures/samples)');
  return folder.uri;
}

export function workspaceFile(...segments: string[]): vscode.Uri {
  return vscode.Uri.joinPath(workspaceFolder(), ...segments);
}

/** Opens a workspace file in an editor and returns that editor. */
export async function openEditor(...segments: string[]): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument(workspaceFile(...segments));
  return vscode.window.showTextDocument(doc);
}

/** Polls `probe` until it returns a truthy value (returned) or `timeoutMs` passes (throws). */
export async function waitFor<T>(probe: () => T | Promise<T>, what: string, timeoutMs = 10_000, intervalMs = 100): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
