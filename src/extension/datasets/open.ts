import * as path from 'node:path';
import * as vscode from 'vscode';
import { DOCUMENT_SYNC_LIMIT_BYTES } from '../config';
import type { Ctx } from '../context';
import { isCancellation } from '../cancellation';
import type { IndexedDataset } from './registry';

/** Opening and re-indexing datasets with the UI around it (progress, editors). */

/**
 * Indexes `uri` as a dataset. Files VS Code can hand over as documents are opened in an editor
 * (when `show`) and indexed from its text, so lenses, hovers and diagnostics follow edits; larger
 * files are indexed from disk under a cancellable progress notification.
 * Resolves to `undefined` when the user cancelled; throws with a readable message on failure.
 */
export async function openDataset(ctx: Ctx, uri: vscode.Uri, options: { show: boolean }): Promise<IndexedDataset | undefined> {
  const existing = ctx.datasets.get(uri);
  if (existing?.origin === 'file') return existing;
  const size = (await vscode.workspace.fs.stat(uri)).size;
  if (size > DOCUMENT_SYNC_LIMIT_BYTES) return indexFileWithProgress(ctx, uri);
  ctx.datasets.track(uri);
  const doc = await vscode.workspace.openTextDocument(uri);
  if (options.show) await vscode.window.showTextDocument(doc, { preview: false });
  const indexed = await ctx.datasets.forDocument(doc);
  if (indexed === undefined) throw new Error(ctx.datasets.errorOf(uri) ?? `${path.basename(uri.fsPath)} is not a preference dataset`);
  return indexed;
}

/** Indexes a file from disk with a cancellable progress notification; `undefined` if cancelled. */
export async function indexFileWithProgress(ctx: Ctx, uri: vscode.Uri): Promise<IndexedDataset | undefined> {
  const name = path.basename(uri.fsPath);
  try {
    return await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('RewardLens: indexing {0}', name), cancellable: true },
      (progress, token) => {
        let reported = 0;
        return ctx.datasets.indexFile(uri, token, (fraction) => {
          const percent = Math.floor(fraction * 100);
          if (percent > reported) {
            progress.report({ increment: percent - reported, message: `${percent}%` });
            reported = percent;
          }
        });
      },
    );
  } catch (e) {
    if (isCancellation(e)) return undefined;
    throw e;
  }
}

/** Builds the index of `dataset` again (after edits on disk, or a changed setting). */
export async function reindexDataset(ctx: Ctx, dataset: Pick<IndexedDataset, 'uri' | 'origin'>): Promise<IndexedDataset | undefined> {
  if (dataset.origin === 'file') return indexFileWithProgress(ctx, dataset.uri);
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === dataset.uri.toString()) ?? (await vscode.workspace.openTextDocument(dataset.uri));
  return ctx.datasets.indexDocument(doc);
}

/** A dataset URI from a command argument: a `Uri` (menus) or its string form (lenses, hovers, webviews). */
export function uriArg(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  if (typeof arg === 'string' && arg !== '') {
    try {
      return arg.includes(':') && !/^[a-zA-Z]:[\\/]/.test(arg) ? vscode.Uri.parse(arg, true) : vscode.Uri.file(arg);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
