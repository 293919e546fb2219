import * as vscode from 'vscode';
import type { Problem } from '../core/dataset/record';
import { Config } from './config';
import type { Ctx } from './context';
import type { IndexedDataset } from './datasets/registry';

/** The index's problems as diagnostics: errors for records that cannot be used, warnings for the rest. */
export class DatasetDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('rewardlens');
  private readonly disposables: vscode.Disposable[] = [this.collection];

  constructor(private readonly ctx: Ctx) {
    this.disposables.push(
      ctx.datasets.onDidChange((change) => {
        if (change.kind === 'indexed') this.update(change.dataset);
        else if (change.kind === 'removed' || change.kind === 'failed') this.collection.delete(vscode.Uri.parse(change.key, true));
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (Config.affects(e, 'diagnostics.enabled')) this.refresh();
      }),
    );
    this.refresh();
  }

  private refresh(): void {
    this.collection.clear();
    for (const d of this.ctx.datasets.all()) this.update(d);
  }

  private update(d: IndexedDataset): void {
    if (!this.ctx.config.diagnosticsEnabled) {
      this.collection.delete(d.uri);
      return;
    }
    const doc = vscode.workspace.textDocuments.find((t) => t.uri.toString() === d.key);
    const { report } = d.dataset;
    const diagnostics = report.problems.map((p) => toDiagnostic(p, doc));
    const hidden = report.problemCount - report.problems.length;
    if (hidden > 0) {
      const more = new vscode.Diagnostic(
        new vscode.Range(0, 0, 0, 0),
        vscode.l10n.t('{0} more problems are not listed here (see the dataset overview)', hidden),
        vscode.DiagnosticSeverity.Information,
      );
      more.source = 'RewardLens';
      diagnostics.push(more);
    }
    this.collection.set(d.uri, diagnostics);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function toDiagnostic(p: Problem, doc: vscode.TextDocument | undefined): vscode.Diagnostic {
  const line = Math.max(0, p.line - 1);
  let range = new vscode.Range(line, 0, line, 0);
  if (doc !== undefined && line < doc.lineCount) {
    const text = doc.lineAt(line);
    range = new vscode.Range(line, text.firstNonWhitespaceCharacterIndex, line, text.range.end.character);
  }
  const diagnostic = new vscode.Diagnostic(range, p.reason, p.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning);
  diagnostic.source = 'RewardLens';
  return diagnostic;
}
