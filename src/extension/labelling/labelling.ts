import * as vscode from 'vscode';
import { ApiKeyStore } from './api-key';

/**
 * What the labelling commands share for the extension's lifetime: the judge's API key
 * (SecretStorage), the diagnostics of the points and template files, and the jobs running now (one
 * per store; disposing aborts them, and their stores keep every finished call).
 */
export class Labelling implements vscode.Disposable {
  readonly apiKey: ApiKeyStore;
  /** Problems of the points config and template files, at their line and column. */
  readonly configDiagnostics = vscode.languages.createDiagnosticCollection('rewardlens-labelling');
  private readonly running = new Map<string, AbortController>();
  private readonly finished = new vscode.EventEmitter<string>();
  /** A job or labels-from-ratings run on a dataset (its registry key) wrote to its store. */
  readonly onDidFinish = this.finished.event;

  constructor(secrets: vscode.SecretStorage) {
    this.apiKey = new ApiKeyStore(secrets);
  }

  /** A controller for a job on `store`, or undefined when one is running there already. */
  begin(store: string): AbortController | undefined {
    if (this.running.has(store)) return undefined;
    const controller = new AbortController();
    this.running.set(store, controller);
    return controller;
  }

  end(store: string): void {
    this.running.delete(store);
  }

  jobFinished(datasetKey: string): void {
    this.finished.fire(datasetKey);
  }

  isRunning(store: string): boolean {
    return this.running.has(store);
  }

  dispose(): void {
    for (const controller of this.running.values()) controller.abort();
    this.running.clear();
    this.configDiagnostics.dispose();
    this.finished.dispose();
  }
}
