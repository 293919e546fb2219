import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExportFormat } from '../../core/curation/export-dataset';
import { EXPORT_FORMATS, exportDataset } from '../../core/curation/export-dataset';
import { EditApplier, parseRanking, rankingProblem } from '../../core/curation/apply';
import { KNOWN_TAGS } from '../../core/curation/journal';
import type { RecordEditKind } from '../../core/curation/journal';
import { Dataset } from '../../core/dataset/dataset';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import type { IndexedDataset } from '../datasets/registry';
import { appendEdit, datasetFileOf, journalOf } from './edits';
import { filterRecords } from './filter-command';

/**
 * Curation commands (docs/curation.md). Record commands take `(datasetUri, index, …)` as the CodeLens,
 * hover and views pass them; without an index they act on the record at the cursor.
 */

/** The record a command acts on: its argument, else the record at the active editor's cursor. */
function recordIndex(d: IndexedDataset, arg: unknown): number | undefined {
  if (typeof arg === 'number' && Number.isInteger(arg) && arg >= 0 && arg < d.dataset.size) return arg;
  const editor = vscode.window.activeTextEditor;
  if (editor?.document.uri.toString() !== d.key) return undefined;
  const i = d.dataset.recordAtLine(editor.selection.active.line + 1);
  return i >= 0 ? i : undefined;
}

function edit(
  ctx: Ctx,
  d: IndexedDataset,
  at: unknown,
  kind: RecordEditKind,
  extra: { tag?: string; note?: string; a?: number; b?: number; ranking?: number[] } = {},
): number | undefined {
  const index = recordIndex(d, at);
  if (index === undefined) {
    void vscode.window.showInformationMessage(vscode.l10n.t('RewardLens: put the cursor on a record to edit it.'));
    return undefined;
  }
  try {
    const [line] = appendEdit(d, { kind, index, ...extra });
    ctx.log.info(`${d.name}: record ${index + 1}: ${kind} (edit #${line.seq})`);
    return line.seq;
  } catch (e) {
    ctx.showError(vscode.l10n.t('cannot edit record {0} of {1}', index + 1, d.name), e);
    return undefined;
  }
}

function history(ctx: Ctx, d: IndexedDataset, kind: 'undo' | 'redo'): number | undefined {
  try {
    const written = appendEdit(d, { kind });
    if (written.length === 0) {
      void vscode.window.showInformationMessage(
        kind === 'undo' ? vscode.l10n.t('RewardLens: no edit of {0} to undo.', d.name) : vscode.l10n.t('RewardLens: no edit of {0} to redo.', d.name),
      );
      return undefined;
    }
    return written[0].seq;
  } catch (e) {
    ctx.showError(vscode.l10n.t('cannot {0} an edit of {1}', kind, d.name), e);
    return undefined;
  }
}

function pairArg(arg: unknown): { a?: number; b?: number } {
  const o = arg as { a?: unknown; b?: unknown } | undefined;
  return typeof o?.a === 'number' && typeof o.b === 'number' ? { a: o.a, b: o.b } : {};
}

async function tag(ctx: Ctx, d: IndexedDataset, at: unknown, given: unknown): Promise<number | undefined> {
  let value = typeof given === 'string' ? given : undefined;
  if (value === undefined) {
    const other = vscode.l10n.t('Other tag…');
    const picked = await vscode.window.showQuickPick([...KNOWN_TAGS, other], { title: vscode.l10n.t('Tag the record') });
    if (picked === undefined) return undefined;
    value =
      picked === other
        ? await vscode.window.showInputBox({
            title: vscode.l10n.t('Tag'),
            validateInput: (v) => (v.trim() === '' ? vscode.l10n.t('a tag cannot be empty') : undefined),
          })
        : picked;
  }
  if (value === undefined || value.trim() === '') return undefined;
  return edit(ctx, d, at, 'tag', { tag: value.trim() });
}

/**
 * `(datasetUri, index, ranking?)`: the responses' new ranking (1 best). Without one, an input box
 * holds the ranking as it is now, edits applied, for the user to change.
 */
async function rerank(ctx: Ctx, d: IndexedDataset, at: unknown, given: unknown): Promise<number | undefined> {
  const index = recordIndex(d, at);
  const read = index === undefined ? undefined : d.dataset.read(index).record;
  // No record here: edit says why.
  if (index === undefined || read === undefined) return edit(ctx, d, at, 'rerank');
  if (Array.isArray(given)) {
    const problem = rankingProblem(given as number[], read.responses.length);
    if (problem === undefined) return edit(ctx, d, index, 'rerank', { ranking: given as number[] });
    ctx.showError(vscode.l10n.t('cannot re-rank record {0} of {1}', index + 1, d.name), new Error(problem));
    return undefined;
  }
  const journal = journalOf(d);
  const record = journal ? (new EditApplier(journal.contents).apply(read, d.dataset.raw(index)).record ?? read) : read;
  const n = record.responses.length;
  const value = await vscode.window.showInputBox({
    title: vscode.l10n.t('Re-rank the {0} responses of record {1}', n, index + 1),
    prompt: vscode.l10n.t('One rank per response, in order, 1 best; equal ranks are a tie (e.g. 2, 1, 3)'),
    value: record.preference?.ranking?.join(', ') ?? '',
    validateInput: (v) => {
      const r = parseRanking(v, n);
      return typeof r === 'string' ? vscode.l10n.t('one whole rank from 1 for each of the {0} responses', n) : undefined;
    },
  });
  if (value === undefined) return undefined;
  const ranking = parseRanking(value, n);
  return typeof ranking === 'string' ? undefined : edit(ctx, d, index, 'rerank', { ranking });
}

async function note(ctx: Ctx, d: IndexedDataset, at: unknown, given: unknown): Promise<number | undefined> {
  const value = typeof given === 'string' ? given : await vscode.window.showInputBox({ title: vscode.l10n.t('Note on the record') });
  if (value === undefined || value.trim() === '') return undefined;
  return edit(ctx, d, at, 'note', { note: value });
}

/** `(datasetUri, index)` → a quick pick of the edits (the CodeLens's one entry point). */
async function curate(ctx: Ctx, d: IndexedDataset, at: unknown): Promise<number | undefined> {
  const items: (vscode.QuickPickItem & { run: () => Promise<number | undefined> | number | undefined })[] = [
    {
      label: `$(arrow-swap) ${vscode.l10n.t('Flip Preference')}`,
      detail: vscode.l10n.t('swap the best and the worst response'),
      run: () => edit(ctx, d, at, 'flip'),
    },
    { label: `$(dash) ${vscode.l10n.t('Mark Tie')}`, run: () => edit(ctx, d, at, 'tie') },
    { label: `$(list-ordered) ${vscode.l10n.t('Re-rank Responses…')}`, run: () => rerank(ctx, d, at, undefined) },
    { label: `$(trash) ${vscode.l10n.t('Drop Record')}`, run: () => edit(ctx, d, at, 'drop') },
    { label: `$(tag) ${vscode.l10n.t('Tag Record…')}`, run: () => tag(ctx, d, at, undefined) },
    { label: `$(note) ${vscode.l10n.t('Add Note…')}`, run: () => note(ctx, d, at, undefined) },
    { label: `$(discard) ${vscode.l10n.t('Undo Edit')}`, run: () => history(ctx, d, 'undo') },
    { label: `$(redo) ${vscode.l10n.t('Redo Edit')}`, run: () => history(ctx, d, 'redo') },
  ];
  const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Edit record {0}', (recordIndex(d, at) ?? 0) + 1) });
  return picked?.run();
}

interface ExportArgs {
  out?: string;
  format?: ExportFormat;
  edits?: boolean;
}

/** `(datasetUri, {out?, format?, edits?})`: without `out`, asks for the format and the file. */
async function exportCurated(ctx: Ctx, d: IndexedDataset, arg: unknown): Promise<{ out: string; written: number; records: number } | undefined> {
  const file = datasetFileOf(d);
  if (file === undefined) {
    void vscode.window.showInformationMessage(vscode.l10n.t('RewardLens: save the dataset to a file first.'));
    return undefined;
  }
  const o = (arg ?? {}) as ExportArgs;
  let format = o.format;
  if (format === undefined) {
    const picked = await vscode.window.showQuickPick(
      EXPORT_FORMATS.map((f) => ({
        label: f,
        detail: {
          same: vscode.l10n.t("the file's own shape (canonical and DMoERM files)"),
          canonical: vscode.l10n.t('one RewardLens record per line'),
          trl: vscode.l10n.t('TRL {prompt, chosen, rejected}, one line per pair'),
          dmoerm: vscode.l10n.t('DMoERM {src, tgt, response, rank, label}'),
        }[f],
      })),
      { title: vscode.l10n.t('Export the curated dataset as') },
    );
    if (picked === undefined) return undefined;
    format = picked.label;
  }
  if (!EXPORT_FORMATS.includes(format)) throw new Error(`format must be one of ${EXPORT_FORMATS.join(', ')}`);
  let out = o.out;
  if (out === undefined) {
    const ext = path.extname(file);
    const uri = await vscode.window.showSaveDialog({
      title: vscode.l10n.t('Export the curated dataset'),
      defaultUri: vscode.Uri.file(path.join(path.dirname(file), `${path.basename(file, ext)}.curated${format === 'same' ? ext : '.jsonl'}`)),
    });
    if (uri === undefined) return undefined;
    out = uri.fsPath;
  }
  // Export reads the file on disk (not the editor's index of an unsaved buffer).
  const dataset = await Dataset.open(file, { adapterOptions: { rankDirection: ctx.config.rankDirection } });
  try {
    const r = exportDataset(dataset, out, { format, edits: o.edits !== false });
    const stale = r.edits?.stale.length ?? 0;
    for (const s of r.edits?.stale ?? []) ctx.log.warn(`${d.name}: stale edit #${s.edit.seq} (${s.edit.kind}): ${s.reason}`);
    ctx.log.info(
      `${d.name} → ${out}: ${r.written} lines from ${r.records} records (${format}), ${r.edits?.applied ?? 0} edits applied, ${r.dropped} dropped, ${stale} stale`,
    );
    void vscode.window.showInformationMessage(
      vscode.l10n.t('RewardLens: exported {0} records to {1} ({2} edits applied, {3} stale).', r.records, path.basename(out), r.edits?.applied ?? 0, stale),
    );
    return { out, written: r.written, records: r.records };
  } catch (e) {
    ctx.showError(vscode.l10n.t('cannot export {0}', d.name), e);
    return undefined;
  } finally {
    dataset.close();
  }
}

type DatasetHandler = (dataset: IndexedDataset, ...args: unknown[]) => unknown;
type Factory = { enabled: (ctx: Ctx) => DatasetHandler; disabled: (ctx: Ctx) => (...args: unknown[]) => unknown };

export const CURATION_COMMANDS = [
  CommandId.CurateRecord,
  CommandId.FlipPreference,
  CommandId.MarkTie,
  CommandId.RerankResponses,
  CommandId.DropRecord,
  CommandId.TagRecord,
  CommandId.AddNote,
  CommandId.UndoEdit,
  CommandId.RedoEdit,
  CommandId.ExportCuratedDataset,
  CommandId.FilterRecords,
] as const;

export function createCurationCommands(
  needsDataset: (what: string) => (ctx: Ctx) => (...args: unknown[]) => unknown,
): Record<(typeof CURATION_COMMANDS)[number], Factory> {
  const disabled = needsDataset(vscode.l10n.t('edit its records'));
  return {
    [CommandId.CurateRecord]: { enabled: (ctx) => (d, at) => curate(ctx, d, at), disabled },
    [CommandId.FlipPreference]: { enabled: (ctx) => (d, at, pair) => edit(ctx, d, at, 'flip', pairArg(pair)), disabled },
    [CommandId.MarkTie]: { enabled: (ctx) => (d, at, pair) => edit(ctx, d, at, 'tie', pairArg(pair)), disabled },
    [CommandId.RerankResponses]: { enabled: (ctx) => (d, at, ranking) => rerank(ctx, d, at, ranking), disabled },
    [CommandId.DropRecord]: { enabled: (ctx) => (d, at) => edit(ctx, d, at, 'drop'), disabled },
    [CommandId.TagRecord]: { enabled: (ctx) => (d, at, value) => tag(ctx, d, at, value), disabled },
    [CommandId.AddNote]: { enabled: (ctx) => (d, at, value) => note(ctx, d, at, value), disabled },
    [CommandId.UndoEdit]: { enabled: (ctx) => (d) => history(ctx, d, 'undo'), disabled },
    [CommandId.RedoEdit]: { enabled: (ctx) => (d) => history(ctx, d, 'redo'), disabled },
    [CommandId.ExportCuratedDataset]: { enabled: (ctx) => (d, arg) => exportCurated(ctx, d, arg), disabled: needsDataset(vscode.l10n.t('export it')) },
    [CommandId.FilterRecords]: {
      enabled: (ctx) => (d, query, options) => filterRecords(ctx, d, query, options),
      disabled: needsDataset(vscode.l10n.t('filter its records')),
    },
  };
}
