import * as vscode from 'vscode';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import type { IndexedDataset } from '../datasets/registry';
import { editSummary, hasEdits, onDidChangeEdits, recordEdits } from './edits';
import { errorMessage } from '../../core/error-message';

/** The curation lens of an edited record: `✎ flipped · #leak`; a click opens its edits. */
export class EditLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly dataset: IndexedDataset,
    readonly index: number,
  ) {
    super(range);
  }
}

/**
 * A provider of its own beside the record lenses (src/extension/codelens), so that the record lens
 * stays as it is; both are placed on a record's first line. Text is computed for visible lenses only.
 */
export class EditCodeLensProvider implements vscode.CodeLensProvider<EditLens>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(private readonly ctx: Ctx) {
    this.subscriptions = [
      ctx.datasets.onDidChange((change) => {
        if (change.kind !== 'indexing') this.emitter.fire();
      }),
      onDidChangeEdits(() => this.emitter.fire()),
    ];
  }

  async provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<EditLens[]> {
    if (!this.ctx.config.codeLensEnabled || doc.uri.scheme !== 'file') return [];
    const indexed = await this.ctx.datasets.forDocument(doc, token);
    if (indexed === undefined || token.isCancellationRequested) return [];
    // Edited records only: a lens on every record doubled the lenses of a file nobody curates (the hover and
    // the record lens's quick pick reach the edits of the others), and without a journal nothing is read.
    if (!hasEdits(indexed)) return [];
    const lenses: EditLens[] = [];
    for (let i = 0; i < indexed.dataset.size; i++) {
      if ((i & 0x3ff) === 0 && token.isCancellationRequested) return [];
      const line = indexed.dataset.lineOf(i) - 1;
      if (line >= doc.lineCount) break;
      if (recordEdits(indexed, i)) lenses.push(new EditLens(new vscode.Range(line, 0, line, 0), indexed, i));
    }
    return lenses;
  }

  resolveCodeLens(lens: EditLens): EditLens {
    const args = [lens.dataset.key, lens.index];
    try {
      const edits = recordEdits(lens.dataset, lens.index);
      const title = edits ? editSummary(edits) : `$(edit) ${vscode.l10n.t('Edit')}`;
      const tooltip = edits?.stale.length ? vscode.l10n.t('Some edits were made on another version of this record and are not applied. Click to edit.') : vscode.l10n.t('Flip, tie, drop, tag or annotate this record (kept in .rewardlens/, never in the file)');
      lens.command = { title, command: CommandId.CurateRecord, arguments: args, tooltip };
    } catch (e) {
      lens.command = { title: '', command: '' };
      this.ctx.log.debug(`edit lens ${lens.index}: ${errorMessage(e)}`);
    }
    return lens;
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.emitter.dispose();
  }
}
