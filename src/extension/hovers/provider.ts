import * as vscode from 'vscode';
import type { PreferenceRecord } from '../../core/dataset/record';
import { CommandId } from '../command-id';
import type { Ctx } from '../context';
import type { IndexedDataset } from '../datasets/registry';
import { formatPreference, formatVerdict, pairVerdicts, responseHeading, responsePreviewChars, snippet } from '../presentation/format';
import { responseForString, stringAt } from './locate';
import { escapeMarkdown, inlineCode } from '../../core/markdown';
import { scoreHoverMarkdown } from '../scoring/format';
import { RewardModel } from '../scoring/reward-model';
import { curationMarkdown, HOVER_CURATION_COMMANDS } from '../curation/hover';
import { errorMessage } from '../../core/error-message';

function commandLink(label: string, command: CommandId, args: unknown[], tooltip: string): string {
  return `[${label}](command:${command}?${encodeURIComponent(JSON.stringify(args))} "${tooltip}")`;
}

/**
 * Hover on a record: its preference and its responses with rank, ratings and model. When the
 * position is inside a response's text, that response is shown in full detail first.
 */
export class RecordHoverProvider implements vscode.HoverProvider {
  constructor(private readonly ctx: Ctx) {}

  async provideHover(doc: vscode.TextDocument, position: vscode.Position, token: vscode.CancellationToken): Promise<vscode.Hover | undefined> {
    if (!this.ctx.config.hoverEnabled) return undefined;
    const indexed = await this.ctx.datasets.forDocument(doc, token);
    if (indexed === undefined || token.isCancellationRequested) return undefined;
    const index = indexed.dataset.recordAtLine(position.line + 1);
    if (index < 0) return undefined;
    const view = indexed.dataset.read(index);
    const line = doc.lineAt(position.line);
    const str = stringAt(line.text, position.character);
    const md = new vscode.MarkdownString(undefined, true);
    md.isTrusted = { enabledCommands: [CommandId.OpenRecord, CommandId.ShowRecordJson, ...HOVER_CURATION_COMMANDS] };
    md.appendMarkdown(`**RewardLens** · ${vscode.l10n.t('record {0} · line {1}', index + 1, view.line)} · `);
    md.appendMarkdown(
      `${commandLink(`$(list-flat) ${vscode.l10n.t('Browse')}`, CommandId.OpenRecord, [indexed.key, index], vscode.l10n.t('Open in the record browser'))} · `,
    );
    md.appendMarkdown(`${commandLink('$(json) JSON', CommandId.ShowRecordJson, [indexed.key, index], vscode.l10n.t('Show the mapped record as JSON'))}\n\n`);
    for (const p of view.problems) md.appendMarkdown(`${p.severity === 'error' ? '$(error)' : '$(warning)'} ${escapeMarkdown(p.reason)}\n\n`);
    if (view.record === undefined) return new vscode.Hover(md, line.range);
    md.appendMarkdown(curationMarkdown(indexed, index));
    const record = view.record;
    const which = str !== undefined && !str.isKey ? responseForString(record, str.value) : undefined;
    await this.appendScores(md, indexed, index, token);
    if (token.isCancellationRequested) return undefined;
    this.appendRecord(md, indexed, record, which);
    const range = which !== undefined && str !== undefined ? new vscode.Range(position.line, str.start, position.line, str.end) : line.range;
    return new vscode.Hover(md, range);
  }

  /** The reward model's scores of the record, when a model is set (docs/scoring-ui.md). */
  private async appendScores(md: vscode.MarkdownString, indexed: IndexedDataset, index: number, token: vscode.CancellationToken): Promise<void> {
    const model = this.ctx.rewardModel;
    const file = model.file;
    if (file === undefined) return;
    const name = RewardModel.displayName(file);
    try {
      const scored = await model.score(indexed, index, token, { wait: 'now' });
      if (scored === undefined) return;
      md.appendMarkdown(scoreHoverMarkdown(name, scored.record, scored.score, model.manifest?.categories ?? []));
    } catch (e) {
      md.appendMarkdown(`$(warning) ${vscode.l10n.t('reward model {0}: {1}', escapeMarkdown(name), escapeMarkdown(errorMessage(e)))}\n\n`);
    }
  }

  private appendRecord(md: vscode.MarkdownString, _indexed: IndexedDataset, record: PreferenceRecord, which: number | undefined): void {
    md.appendMarkdown(
      `${escapeMarkdown(record.category ?? vscode.l10n.t('no category'))} · ${vscode.l10n.t('{0} responses', record.responses.length)} · ${escapeMarkdown(formatPreference(record))}\n\n`,
    );
    const verdicts = pairVerdicts(record.preference?.pairs ?? []).filter((v) => v.annotators.length > 0);
    for (const v of verdicts) {
      md.appendMarkdown(
        `${vscode.l10n.t('verdict {0}: {1} of {2} annotators ({3})', escapeMarkdown(formatVerdict(v)), v.agreeing, v.votes, escapeMarkdown(v.annotators.join(', ')))}\n\n`,
      );
    }
    if (which !== undefined) {
      md.appendMarkdown('---\n\n');
      appendResponse(md, record, which, true);
    }
    const others = record.responses.map((_, i) => i).filter((i) => i !== which);
    if (others.length > 0) md.appendMarkdown('---\n\n');
    for (const i of others) appendResponse(md, record, i, false);
  }
}

function appendResponse(md: vscode.MarkdownString, record: PreferenceRecord, i: number, detailed: boolean): void {
  const response = record.responses[i];
  const parts = [responseHeading(record, i)];
  if (response.model !== undefined) parts.push(vscode.l10n.t('model {0}', inlineCode(response.model)));
  if (detailed) parts.push(`*${vscode.l10n.t('(under the cursor)')}*`);
  md.appendMarkdown(`${parts.join(' · ')}\n\n`);
  const ratings = response.ratings ?? [];
  if (ratings.length > 0) {
    md.appendMarkdown(`| ${vscode.l10n.t('aspect')} | ${vscode.l10n.t('value')} | ${vscode.l10n.t('source')} |\n|---|---:|---|\n`);
    for (const r of ratings) md.appendMarkdown(`| ${escapeMarkdown(r.aspect)} | ${r.value} | ${escapeMarkdown(r.source)} |\n`);
    md.appendMarkdown('\n');
  }
  md.appendMarkdown(`> ${escapeMarkdown(snippet(response.text, responsePreviewChars(record.responses.length, detailed)))}\n\n`);
}
