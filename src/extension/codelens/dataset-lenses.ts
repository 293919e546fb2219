import * as vscode from 'vscode';
import type { Ctx } from '../context';

/**
 * What the CodeLens providers of dataset records share: VS Code asks them again when an index is
 * replaced (not while one is being built) and when `alsoOn` fires (a new reward model, new edits).
 */
export abstract class DatasetLensProvider implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    protected readonly ctx: Ctx,
    alsoOn: vscode.Event<unknown>,
  ) {
    this.subscriptions = [
      ctx.datasets.onDidChange((change) => {
        if (change.kind !== 'indexing') this.emitter.fire();
      }),
      alsoOn(() => this.emitter.fire()),
    ];
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.emitter.dispose();
  }
}
