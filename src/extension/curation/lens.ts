import * as vscode from 'vscode';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import { DatasetLensProvider } from '../codelens/dataset-lenses';
import type { IndexedDataset } from '../datasets/registry';
import type { EditedRecord } from './edits';
import { editSummary, editedRecords, onDidChangeEdits } from './edits';

/** The curation lens of an edited record: `✎ flipped · #leak`; a click opens its edits. */
export class EditLens extends vscode.CodeLens {
  constructor(
    range: vscode.Range,
    readonly dataset: IndexedDataset,
    readonly edited: EditedRecord,
  ) {
    super(range);
  }
}

/**
 * A provider of its own beside the record lenses (src/extension/codelens), so that the record lens
 * stays as it is; both are placed on a record's first line. Edited records only: a lens on every
 * record doubled the lenses of a file nobody curates (the hover and the record lens's quick pick
 * reach the edits of the others), and they are found from the journal's record ids, not by reading
 * the file.
 */
export class EditCodeLensProvider extends DatasetLensProvider implements vscode.CodeLensProvider<EditLens> {
  constructor(ctx: Ctx) {
    super(ctx, onDidChangeEdits);
  }

  async provideCodeLenses(doc: vscode.TextDocument, token: vscode.CancellationToken): Promise<EditLens[]> {
    if (!this.ctx.config.codeLensEnabled || doc.uri.scheme !== 'file') return [];
    const indexed = await this.ctx.datasets.forDocument(doc, token);
    if (indexed === undefined || token.isCancellationRequested) return [];
    return editedRecords(indexed).flatMap((edited) => {
      const line = indexed.dataset.lineOf(edited.index) - 1;
      return line < doc.lineCount ? [new EditLens(new vscode.Range(line, 0, line, 0), indexed, edited)] : [];
    });
  }

  resolveCodeLens(lens: EditLens): EditLens {
    const tooltip = lens.edited.stale.length
      ? vscode.l10n.t('Some edits were made on another version of this record and are not applied. Click to edit.')
      : vscode.l10n.t('Flip, tie, drop, tag or annotate this record (kept in .rewardlens/, never in the file)');
    lens.command = { title: editSummary(lens.edited), command: CommandId.CurateRecord, arguments: [lens.dataset.key, lens.edited.index], tooltip };
    return lens;
  }
}
