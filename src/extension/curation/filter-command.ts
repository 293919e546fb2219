import * as path from 'node:path';
import * as vscode from 'vscode';
import { EditApplier } from '../../core/curation/apply';
import { FilterError, parseFilter, predicateOf, prepareFilter } from '../../core/curation/filter';
import { journalFileFor, readJournal } from '../../core/curation/journal';
import { abortOnCancel, isCancellation } from '../cancellation';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import type { IndexedDataset } from '../datasets/registry';
import { snippet } from '../presentation/format';
import { storeFileOf } from '../labelling/paths';
import { scoreDataset } from '../scoring/dataset-scoring';
import { RewardModel } from '../scoring/reward-model';
import { appendBulk, datasetFileOf } from './edits';

/**
 * "Filter Records…": a query (src/core/curation/filter.ts) evaluated on the curated records of a
 * dataset; the matches in a quick pick (pick one: the record browser at it), with bulk tag and drop.
 * `(datasetUri, query?, {action?: 'tag' | 'drop', tag?})` runs without questions (tests, scripts).
 */

export interface FilterResult {
  query: string;
  matches: number[];
  /** Edits written by a bulk action. */
  edited?: number;
}

let lastQuery = '';

/** model-vs-human=model and label-noise=model: the file scored by the selected reward model, as the disagreement explorer scores it. */
async function modelScores(ctx: Ctx, d: IndexedDataset): Promise<Map<string, number[]>> {
  const model = ctx.rewardModel.file;
  if (model === undefined)
    throw new Error(vscode.l10n.t('model-vs-human=model and label-noise=model need a reward model: run "RewardLens: Select Reward Model…" first'));
  if (ctx.rewardModel.error !== undefined) throw new Error(vscode.l10n.t('The reward model cannot be used: {0}', ctx.rewardModel.error));
  const title = vscode.l10n.t('RewardLens: scoring {0} with {1}', d.name, RewardModel.displayName(model));
  const scored = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
    const abort = new AbortController();
    const cancel = abortOnCancel(token, abort);
    try {
      const onProgress = (_model: number, done: number, total: number): void => progress.report({ message: vscode.l10n.t('{0}/{1} records', done, total) });
      return await scoreDataset(d, [model], { signal: abort.signal, intraOpNumThreads: ctx.config.scoringThreads, onProgress }, (r) =>
        r.scores[0] ? ([r.record.id, r.scores[0].logits] as const) : undefined,
      );
    } finally {
      cancel.dispose();
    }
  });
  return new Map(scored.rows);
}

export async function filterRecords(ctx: Ctx, d: IndexedDataset, queryArg: unknown, optionsArg: unknown): Promise<FilterResult | undefined> {
  const query =
    typeof queryArg === 'string'
      ? queryArg
      : await vscode.window.showInputBox({
          title: vscode.l10n.t('Filter records of {0}', d.name),
          prompt: vscode.l10n.t(
            'e.g. category=roleplay&tag=label-noise&edited=1&len.chosen>500&dup-prompt=1&leak=test.jsonl&label-vs-human=1&model-vs-human=model&label-noise=model',
          ),
          value: lastQuery,
          validateInput: (v) => {
            try {
              parseFilter(v);
              return undefined;
            } catch (e) {
              return e instanceof FilterError ? e.message : String(e);
            }
          },
        });
  if (query === undefined) return undefined;
  lastQuery = query;
  let matches: number[];
  try {
    const clauses = parseFilter(query);
    const file = datasetFileOf(d);
    const base = file ? path.dirname(file) : (vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '.');
    const context = await prepareFilter(clauses, d.dataset, {
      resolve: (f) => path.resolve(base, f),
      ...(file ? { labelStore: storeFileOf(ctx.config, file), modelScores: () => modelScores(ctx, d) } : {}),
    });
    const keep = predicateOf(clauses, context);
    const applier = file ? new EditApplier(readJournal(journalFileFor(file))) : undefined;
    matches = [];
    for (let i = 0; i < d.dataset.size; i++) {
      let record = d.dataset.read(i).record;
      if (record && applier) record = applier.apply(record, d.dataset.raw(i)).record;
      if (record && keep(record)) matches.push(i);
    }
  } catch (e) {
    if (isCancellation(e)) return undefined;
    ctx.showError(vscode.l10n.t('cannot filter {0}', d.name), e);
    return undefined;
  }
  ctx.log.info(`${d.name}: filter ${query}: ${matches.length} records`);
  const o = (optionsArg ?? {}) as { action?: unknown; tag?: unknown };
  let action: 'tag' | 'drop' | undefined = o.action === 'tag' ? 'tag' : o.action === 'drop' ? 'drop' : undefined;
  let tag = typeof o.tag === 'string' ? o.tag : undefined;
  if (action === undefined && typeof queryArg !== 'string') {
    type Item = vscode.QuickPickItem & { index?: number; action?: 'tag' | 'drop' };
    const items: Item[] = [
      { label: `$(tag) ${vscode.l10n.t('Tag all {0} records…', matches.length)}`, action: 'tag', alwaysShow: true },
      { label: `$(trash) ${vscode.l10n.t('Drop all {0} records', matches.length)}`, action: 'drop', alwaysShow: true },
      { label: '', kind: vscode.QuickPickItemKind.Separator },
      ...matches.slice(0, 5000).map((i) => {
        const r = d.dataset.read(i).record;
        const prompt = r?.context.filter((t) => t.role === 'user').at(-1)?.content ?? '';
        return { label: vscode.l10n.t('record {0}', i + 1), description: r?.category, detail: snippet(prompt, 120), index: i };
      }),
    ];
    const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('{0} records match {1}', matches.length, query), matchOnDetail: true });
    if (picked === undefined) return { query, matches };
    if (picked.index !== undefined) {
      await vscode.commands.executeCommand(CommandId.OpenRecord, d.key, picked.index);
      return { query, matches };
    }
    action = picked.action;
    if (action === 'tag') {
      tag = await vscode.window.showInputBox({ title: vscode.l10n.t('Tag for the {0} records', matches.length), value: 'label-noise' });
      if (tag === undefined || tag.trim() === '') return { query, matches };
    }
  }
  if (action === undefined) return { query, matches };
  if (action === 'tag' && (tag === undefined || tag.trim() === '')) throw new Error('a bulk tag needs options.tag');
  try {
    const written = appendBulk(d, action, matches, tag?.trim());
    void vscode.window.showInformationMessage(
      action === 'tag'
        ? vscode.l10n.t('RewardLens: tagged {0} records "{1}".', written.length, tag ?? '')
        : vscode.l10n.t('RewardLens: dropped {0} records.', written.length),
    );
    return { query, matches, edited: written.length };
  } catch (e) {
    ctx.showError(vscode.l10n.t('cannot edit {0}', d.name), e);
    return { query, matches };
  }
}
