import * as vscode from 'vscode';

/** Typed access to `contributes.configuration` (package.json); keep the two in step. */

export type RankDirection = 'lower-is-better' | 'higher-is-better';

const SECTION = 'rewardlens';

/** VS Code hands extensions no document over this size; such files are indexed from disk. */
export const DOCUMENT_SYNC_LIMIT_BYTES = 50 * 1024 * 1024;

export class Config {
  private get<T>(key: string): T | undefined {
    return vscode.workspace.getConfiguration(SECTION).get<T>(key);
  }

  /** Show a CodeLens with category, response count and ranking above each record. */
  get codeLensEnabled(): boolean {
    return this.get<boolean>('codeLens.enabled') ?? true;
  }

  get hoverEnabled(): boolean {
    return this.get<boolean>('hover.enabled') ?? true;
  }

  get diagnosticsEnabled(): boolean {
    return this.get<boolean>('diagnostics.enabled') ?? true;
  }

  /** How explicit numeric ranks (DMoERM `rank[]`) are read; the data does not say. */
  get rankDirection(): RankDirection {
    return this.get<RankDirection>('rankDirection') === 'higher-is-better' ? 'higher-is-better' : 'lower-is-better';
  }

  /** `.jsonl` documents up to this size are indexed as soon as they are opened. */
  get autoOpenMaxBytes(): number {
    const mb = this.get<number>('autoOpen.maxSizeMB') ?? 50;
    return Math.max(0, Math.min(mb * 1024 * 1024, DOCUMENT_SYNC_LIMIT_BYTES));
  }

  /** Milliseconds between the last edit and re-indexing the document. */
  get reindexDelayMs(): number {
    return Math.max(0, this.get<number>('reindexDelayMs') ?? 300);
  }

  /** Settings whose change invalidates every index. */
  static readonly reindexOn: readonly string[] = [`${SECTION}.rankDirection`];

  static affects(e: vscode.ConfigurationChangeEvent, key: string): boolean {
    return e.affectsConfiguration(`${SECTION}.${key}`);
  }
}
