import * as vscode from 'vscode';
import type { Ctx } from '../context';
import type { IndexedDataset } from '../datasets/registry';

/**
 * One record as a read-only JSON document (`rewardlens-record:` URIs): the canonical record the
 * engine mapped, its problems, and for malformed records the raw text.
 */
export const RECORD_SCHEME = 'rewardlens-record';

interface RecordRef {
  dataset: string;
  index: number;
}

export function recordDocumentUri(d: Pick<IndexedDataset, 'key' | 'name'>, index: number): vscode.Uri {
  const query = new URLSearchParams({ dataset: d.key, index: String(index) }).toString();
  return vscode.Uri.from({ scheme: RECORD_SCHEME, path: `/${d.name} #${index + 1}.json`, query });
}

function parseRef(uri: vscode.Uri): RecordRef | undefined {
  const params = new URLSearchParams(uri.query);
  const dataset = params.get('dataset');
  const index = Number(params.get('index'));
  return dataset !== null && Number.isInteger(index) && index >= 0 ? { dataset, index } : undefined;
}

export class RecordDocumentProvider implements vscode.TextDocumentContentProvider {
  private readonly emitter = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.emitter.event;

  constructor(private readonly ctx: Ctx) {}

  static register(ctx: Ctx): void {
    const provider = new RecordDocumentProvider(ctx);
    ctx.push(provider.emitter);
    ctx.push(vscode.workspace.registerTextDocumentContentProvider(RECORD_SCHEME, provider));
    // Re-read open record documents when their dataset is re-indexed.
    ctx.push(
      ctx.datasets.onDidChange((change) => {
        if (change.kind !== 'indexed') return;
        for (const doc of vscode.workspace.textDocuments) {
          if (doc.uri.scheme === RECORD_SCHEME && parseRef(doc.uri)?.dataset === change.key) provider.emitter.fire(doc.uri);
        }
      }),
    );
  }

  provideTextDocumentContent(uri: vscode.Uri): string {
    const ref = parseRef(uri);
    if (ref === undefined) return '// not a RewardLens record address\n';
    const indexed = this.ctx.datasets.get(vscode.Uri.parse(ref.dataset, true));
    if (indexed === undefined) return JSON.stringify({ error: vscode.l10n.t('the dataset is no longer open; open it again to see this record') }, null, 2);
    const { dataset } = indexed;
    if (ref.index >= dataset.size)
      return JSON.stringify({ error: vscode.l10n.t('record {0} does not exist (the dataset has {1})', ref.index + 1, dataset.size) }, null, 2);
    const view = dataset.read(ref.index);
    const out: Record<string, unknown> = { record: ref.index + 1, line: view.line };
    if (view.lines.length > 1) out.lines = view.lines;
    if (view.problems.length > 0) out.problems = view.problems;
    if (view.record !== undefined) out.canonical = view.record;
    else out.raw = dataset.raw(ref.index);
    return `${JSON.stringify(out, null, 2)}\n`;
  }
}
