import * as vscode from 'vscode';
import { CommandId } from '../command-id';
import type { IndexedDataset } from '../datasets/registry';
import { editSummary, recordEdits } from './edits';

/** The hover's edit links, in order; `dataset`: the command acts on the dataset, not on the record. */
const LINKS: readonly { command: CommandId; label: () => string; tooltip: () => string; dataset?: true }[] = [
  {
    command: CommandId.FlipPreference,
    label: () => `$(arrow-swap) ${vscode.l10n.t('Flip')}`,
    tooltip: () => vscode.l10n.t('Flip the preference: swap the best and the worst response'),
  },
  { command: CommandId.MarkTie, label: () => `$(dash) ${vscode.l10n.t('Tie')}`, tooltip: () => vscode.l10n.t('Mark the responses tied') },
  {
    command: CommandId.RerankResponses,
    label: () => `$(list-ordered) ${vscode.l10n.t('Re-rank…')}`,
    tooltip: () => vscode.l10n.t('Re-rank the responses: type the new ranking'),
  },
  {
    command: CommandId.DropRecord,
    label: () => `$(trash) ${vscode.l10n.t('Drop')}`,
    tooltip: () => vscode.l10n.t('Leave the record out of training and exports'),
  },
  { command: CommandId.TagRecord, label: () => `$(tag) ${vscode.l10n.t('Tag…')}`, tooltip: () => vscode.l10n.t('Tag the record') },
  { command: CommandId.AddNote, label: () => `$(note) ${vscode.l10n.t('Note…')}`, tooltip: () => vscode.l10n.t('Add a note') },
  {
    command: CommandId.UndoEdit,
    label: () => `$(discard) ${vscode.l10n.t('Undo')}`,
    tooltip: () => vscode.l10n.t('Undo the last edit of this dataset'),
    dataset: true,
  },
];

/** Commands the hover's curation links run; the hover's trusted MarkdownString enables them. */
export const HOVER_CURATION_COMMANDS: readonly CommandId[] = LINKS.map((l) => l.command);

function link(label: string, command: CommandId, args: unknown[], tooltip: string): string {
  return `[${label}](command:${command}?${encodeURIComponent(JSON.stringify(args))} "${tooltip}")`;
}

/** One line of edit links (and the record's edits so far) for the record hover. */
export function curationMarkdown(indexed: IndexedDataset, index: number): string {
  if (indexed.uri.scheme !== 'file') return '';
  const links = LINKS.map((l) => link(l.label(), l.command, l.dataset ? [indexed.key] : [indexed.key, index], l.tooltip()));
  let edits: ReturnType<typeof recordEdits>;
  try {
    edits = recordEdits(indexed, index);
  } catch {
    edits = undefined;
  }
  return `${edits ? `${editSummary(edits)} · ` : ''}${links.join(' · ')}\n\n`;
}
