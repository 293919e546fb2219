import * as vscode from 'vscode';

/**
 * The judge endpoint's API key, kept only in VS Code's SecretStorage (the OS keychain on desktop):
 * never in settings, never logged, never written to a file.
 */
const KEY = 'rewardlens.judge.apiKey';

export class ApiKeyStore {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  get(): Thenable<string | undefined> {
    return this.secrets.get(KEY);
  }

  /** Asks for the key in a password box; returns whether one was stored. */
  async prompt(): Promise<boolean> {
    const value = await vscode.window.showInputBox({
      title: vscode.l10n.t('RewardLens: judge API key'),
      prompt: vscode.l10n.t('Stored in VS Code SecretStorage only. Leave empty for endpoints without a key.'),
      password: true,
      ignoreFocusOut: true,
    });
    if (value === undefined) return false;
    await this.set(value);
    return true;
  }

  /** Stores `value` (trimmed); an empty one removes the key. */
  async set(value: string): Promise<void> {
    if (value.trim() === '') await this.secrets.delete(KEY);
    else await this.secrets.store(KEY, value.trim());
  }

  clear(): Thenable<void> {
    return this.secrets.delete(KEY);
  }
}
