import * as vscode from 'vscode';
import { CommandId } from '../command-id';
import type { IndexedDataset } from '../datasets/registry';
import { editSummary, recordEdits } from './edits';

/** Commands the hover's curation links run; the hover's trusted MarkdownString enables them. */
export const HOVER_CURATION_COMMANDS: readonly CommandId[] = [
  CommandId.FlipPreference,
  CommandId.MarkTie,
  CommandId.RerankResponses,
  CommandId.DropRecord,
  CommandId.TagRecord,
  CommandId.AddNote,
  CommandId.UndoEdit,
];

function link(label: string, command: CommandId, args: unknown[], tooltip: string): string {
  return `[${label}](command:${command}?${encodeURIComponent(JSON.stringify(args))} "${tooltip}")`;
}

/** One line of edit links (and the record's edits so far) for the record hover. */
export function curationMarkdown(indexed: IndexedDataset, index: number): string {
  if (indexed.uri.scheme !== 'file') return '';
  const args = [indexed.key, index];
  const links = [
    link(`$(arrow-swap) ${vscode.l10n.t('Flip')}`, CommandId.FlipPreference, args, vscode.l10n.t('Flip the preference: swap the best and the worst response')),
    link(`$(dash) ${vscode.l10n.t('Tie')}`, CommandId.MarkTie, args, vscode.l10n.t('Mark the responses tied')),
    link(`$(list-ordered) ${vscode.l10n.t('Re-rank…')}`, CommandId.RerankResponses, args, vscode.l10n.t('Re-rank the responses: type the new ranking')),
    link(`$(trash) ${vscode.l10n.t('Drop')}`, CommandId.DropRecord, args, vscode.l10n.t('Leave the record out of training and exports')),
    link(`$(tag) ${vscode.l10n.t('Tag…')}`, CommandId.TagRecord, args, vscode.l10n.t('Tag the record')),
    link(`$(note) ${vscode.l10n.t('Note…')}`, CommandId.AddNote, args, vscode.l10n.t('Add a note')),
    link(`$(discard) ${vscode.l10n.t('Undo')}`, CommandId.UndoEdit, [indexed.key], vscode.l10n.t('Undo the last edit of this dataset')),
  ];
  let edits: ReturnType<typeof recordEdits>;
  try {
    edits = recordEdits(indexed, index);
  } catch {
    edits = undefined;
  }
  return `${edits ? `${editSummary(edits)} · ` : ''}${links.join(' · ')}\n\n`;
}
