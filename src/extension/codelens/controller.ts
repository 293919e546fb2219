import * as vscode from 'vscode';
import { Config } from '../config';
import type { Ctx } from '../context';
import { RecordCodeLensProvider } from './provider';

/** The documents lenses are offered for: JSON Lines, and JSON files opened as datasets. */
export const DATASET_SELECTOR: vscode.DocumentSelector = [
  { language: 'jsonl' },
  { scheme: 'file', pattern: '**/*.{jsonl,json}' },
  { scheme: 'untitled', language: 'jsonl' },
];

/** Registers the CodeLens provider while `rewardlens.codeLens.enabled` is on. */
export class CodeLensController implements vscode.Disposable {
  private registration: vscode.Disposable | undefined;
  private provider: RecordCodeLensProvider | undefined;
  private readonly configListener: vscode.Disposable;

  constructor(private readonly ctx: Ctx) {
    this.configListener = vscode.workspace.onDidChangeConfiguration((e) => {
      if (Config.affects(e, 'codeLens.enabled')) this.update();
    });
    this.update();
  }

  private update(): void {
    const enabled = this.ctx.config.codeLensEnabled;
    if (enabled && this.registration === undefined) {
      this.provider = new RecordCodeLensProvider(this.ctx);
      this.registration = vscode.languages.registerCodeLensProvider(DATASET_SELECTOR, this.provider);
    } else if (!enabled && this.registration !== undefined) {
      this.unregister();
    }
  }

  private unregister(): void {
    this.registration?.dispose();
    this.provider?.dispose();
    this.registration = undefined;
    this.provider = undefined;
  }

  dispose(): void {
    this.configListener.dispose();
    this.unregister();
  }
}
