import * as vscode from 'vscode';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import type { IndexedDataset } from '../datasets/registry';
import { lensTitle, snippet } from '../presentation/format';

/** A lens on a record's first line; its text is computed in `resolveCodeLens`, for visible lenses only. */
export class RecordLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly dataset: IndexedDataset,
    readonly index: number,
  ) {
    super(range);
  }
}

const TITLE_CHARS = 120;

/**
 * Lenses for every record of an indexed document. `provideCodeLenses` only places them (one typed
 * array lookup per record); reading and mapping the record happens in `resolveCodeLens`.
 */
export class RecordCodeLensProvider implements vscode.CodeLensProvider<RecordLens>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly ctx: Ctx) {
    this.subscription = ctx.datasets.onDidChange((change) => {
      if (change.kind !== 'indexing') this.emitter.fire();
    });
  }

  async provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<RecordLens[]> {
    const indexed = await this.ctx.datasets.forDocument(doc, token);
    if (indexed === undefined || token.isCancellationRequested) return [];
    const { dataset } = indexed;
    const lenses: RecordLens[] = [];
    for (let i = 0; i < dataset.size; i++) {
      if ((i & 0x3ff) === 0 && token.isCancellationRequested) return [];
      const line = dataset.lineOf(i) - 1;
      if (line >= doc.lineCount) break;
      lenses.push(new RecordLens(new vscode.Range(line, 0, line, 0), indexed, i));
    }
    return lenses;
  }

  resolveCodeLens(lens: RecordLens, token: vscode.CancellationToken): RecordLens {
    if (token.isCancellationRequested) return lens;
    const args = [lens.dataset.key, lens.index];
    try {
      const view = lens.dataset.dataset.read(lens.index);
      if (view.record === undefined) {
        const reason = view.problems[0]?.reason ?? 'not a record';
        lens.command = { title: `$(error) ${snippet(reason, TITLE_CHARS)}`, command: CommandId.OpenRecord, arguments: args, tooltip: reason };
        return lens;
      }
      const warnings = view.problems.length;
      const title = lensTitle(view.record) + (warnings > 0 ? ` · $(warning) ${warnings}` : '');
      lens.command = { title, command: CommandId.OpenRecord, arguments: args, tooltip: 'Open the record in the RewardLens record browser' };
    } catch (e) {
      // The index was replaced (and its file closed) between placing and resolving the lens.
      lens.command = { title: 're-indexing…', command: '' };
      this.ctx.log.debug(`lens ${lens.index}: ${e instanceof Error ? e.message : String(e)}`);
    }
    return lens;
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}
