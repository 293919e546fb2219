import * as vscode from 'vscode';
import { Config } from '../config';
import type { Ctx } from '../context';
import { describeEdit, editedRecords, onDidChangeEdits } from './edits';
import { errorMessage } from '../../core/error-message';

/** The 0-based lines decorated in one editor: what the in-host tests read back. */
export interface DecoratedLines {
  edited: number[];
  stale: number[];
}

/**
 * A mark on the first line of each edited record (left border and overview ruler), with a hover
 * naming its edits; a record with stale edits (made on another version of it) in the warning colour.
 * Found from the journal's record ids (edits.ts editedRecords), so a 100k-line file costs one read
 * per edited record. Off with `rewardlens.curation.decorations`.
 */
export class EditDecorations implements vscode.Disposable {
  private readonly edited = decorationType('editorInfo.foreground');
  private readonly stale = decorationType('editorWarning.foreground');
  private readonly subscriptions: vscode.Disposable[];
  /** By document uri. */
  readonly decorated = new Map<string, DecoratedLines>();

  constructor(private readonly ctx: Ctx) {
    this.subscriptions = [
      vscode.window.onDidChangeVisibleTextEditors((editors) => editors.forEach((e) => this.update(e))),
      ctx.datasets.onDidChange((change) => {
        if (change.kind !== 'indexing') this.updateKey(change.key);
      }),
      onDidChangeEdits((key) => this.updateKey(key)),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (Config.affects(e, 'curation.decorations')) this.updateAll();
      }),
    ];
    this.updateAll();
  }

  private updateAll(): void {
    for (const e of vscode.window.visibleTextEditors) this.update(e);
  }

  private updateKey(key: string): void {
    for (const e of vscode.window.visibleTextEditors) if (e.document.uri.toString() === key) this.update(e);
  }

  private update(editor: vscode.TextEditor): void {
    const doc = editor.document;
    const indexed = doc.uri.scheme === 'file' ? this.ctx.datasets.get(doc.uri) : undefined;
    const edited: vscode.DecorationOptions[] = [];
    const stale: vscode.DecorationOptions[] = [];
    try {
      for (const r of indexed && this.ctx.config.curationDecorations ? editedRecords(indexed) : []) {
        const line = indexed!.dataset.lineOf(r.index) - 1;
        if (line >= doc.lineCount) continue;
        const hover = new vscode.MarkdownString();
        hover.appendText(vscode.l10n.t('RewardLens edits of record {0}', r.index + 1));
        for (const e of r.current) hover.appendMarkdown('\n\n- ').appendText(describeEdit(e));
        for (const e of r.stale)
          hover.appendMarkdown('\n\n- ⚠ ').appendText(vscode.l10n.t('{0} (made on another version of this record: not applied)', describeEdit(e)));
        (r.stale.length > 0 ? stale : edited).push({ range: doc.lineAt(line).range, hoverMessage: hover });
      }
    } catch (e) {
      this.ctx.log.debug(`edit decorations of ${doc.uri.toString()}: ${errorMessage(e)}`);
    }
    editor.setDecorations(this.edited, edited);
    editor.setDecorations(this.stale, stale);
    if (edited.length + stale.length > 0 || this.decorated.has(doc.uri.toString())) {
      this.decorated.set(doc.uri.toString(), { edited: edited.map((o) => o.range.start.line), stale: stale.map((o) => o.range.start.line) });
    }
  }

  dispose(): void {
    for (const s of this.subscriptions) s.dispose();
    this.edited.dispose();
    this.stale.dispose();
    this.decorated.clear();
  }
}

function decorationType(color: string): vscode.TextEditorDecorationType {
  const c = new vscode.ThemeColor(color);
  return vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    borderStyle: 'solid',
    borderWidth: '0 0 0 2px',
    borderColor: c,
    overviewRulerColor: c,
    overviewRulerLane: vscode.OverviewRulerLane.Right,
  });
}
