import * as vscode from 'vscode';
import type { RecordEditAction, RecordsState } from '../../../../webview/records-protocol';
import {
  EditRecord,
  FocusRecord,
  InitRecords,
  OpenRecordJson,
  PAGE_SIZE,
  RecordsPage,
  RecordsReady,
  recordsViewType,
  RequestPage,
  RevealRecord,
  SelectRecord,
  ShowDetail,
} from '../../../../webview/records-protocol';
import { CommandId } from '../../command-id';
import type { Ctx } from '../../context';
import type { DatasetChange } from '../../datasets/registry';
import { recordDetail, recordRows } from '../../presentation/records';
import { DatasetPanel } from '../dataset-panel';

function isState(state: unknown): state is RecordsState {
  return typeof state === 'object' && state !== null && typeof (state as RecordsState).uri === 'string';
}

/** The command of each edit button of the detail pane (src/extension/curation/commands.ts). */
const EDIT_COMMANDS: Record<RecordEditAction, CommandId> = {
  flip: CommandId.FlipPreference,
  tie: CommandId.MarkTie,
  rerank: CommandId.RerankResponses,
  drop: CommandId.DropRecord,
  tag: CommandId.TagRecord,
  note: CommandId.AddNote,
  undo: CommandId.UndoEdit,
};

/** Largest page the host answers: the webview asks for what is visible plus a margin. */
const MAX_PAGE = PAGE_SIZE * 5;

/**
 * The record browser: every record of a dataset in a virtually scrolled list (the webview asks for
 * pages of rows by index) and a detail pane with the full record.
 */
export class RecordsPanel extends DatasetPanel {
  static current: RecordsPanel | undefined;
  /** Record to select once the webview is ready. */
  private focus: number | undefined;

  static createOrShow(ctx: Ctx, uri: vscode.Uri, focus?: number, options: { beside?: boolean } = {}): RecordsPanel {
    const current = RecordsPanel.current;
    if (current !== undefined) {
      const same = current.uri?.toString() === uri.toString();
      current.focus = focus;
      current.retarget(uri);
      current.panel.reveal(undefined, options.beside);
      if (same && focus !== undefined && current.ready) {
        current.focus = undefined;
        current.post(FocusRecord({ index: focus }));
      }
      return current;
    }
    const column = options.beside ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    const panel = vscode.window.createWebviewPanel(recordsViewType, vscode.l10n.t('Records'), { viewColumn: column, preserveFocus: options.beside === true }, {});
    const created = new RecordsPanel(ctx, panel, uri);
    created.focus = focus;
    return (RecordsPanel.current = created);
  }

  static register(ctx: Ctx): void {
    ctx.push(
      vscode.window.registerWebviewPanelSerializer(recordsViewType, {
        deserializeWebviewPanel: (panel, state: unknown) => {
          RecordsPanel.current?.dispose();
          const revived = new RecordsPanel(ctx, panel, isState(state) ? vscode.Uri.parse(state.uri, true) : undefined);
          if (isState(state)) revived.focus = state.selected;
          RecordsPanel.current = revived;
          return Promise.resolve();
        },
      }),
    );
    ctx.push({ dispose: () => RecordsPanel.current?.dispose() });
  }

  private constructor(ctx: Ctx, panel: vscode.WebviewPanel, uri: vscode.Uri | undefined) {
    super(ctx, panel, uri, { script: 'records', title: vscode.l10n.t('Records') });
  }

  protected onMessage(msg: unknown): void {
    switch (true) {
      case RecordsReady.is(msg):
        this.ready = true;
        void this.sendInit();
        break;
      case RequestPage.is(msg): {
        const d = this.dataset;
        const { generation, start, count } = msg.params;
        if (d === undefined || d.generation !== generation) break;
        this.post(RecordsPage({ generation, start, rows: recordRows(d.dataset, Math.floor(start), Math.min(MAX_PAGE, Math.floor(count))) }));
        break;
      }
      case SelectRecord.is(msg): {
        const d = this.dataset;
        if (d === undefined || msg.params.index >= d.dataset.size) break;
        this.post(ShowDetail({ detail: recordDetail(d.dataset, msg.params.index) }));
        break;
      }
      case OpenRecordJson.is(msg):
        if (this.dataset !== undefined) void vscode.commands.executeCommand(CommandId.ShowRecordJson, this.dataset.key, msg.params.index);
        break;
      case RevealRecord.is(msg): {
        const d = this.dataset;
        if (d !== undefined && msg.params.index < d.dataset.size) void this.revealLine(d.dataset.lineOf(msg.params.index));
        break;
      }
      case EditRecord.is(msg): {
        const d = this.dataset;
        // The action is the webview's word: only the table's own keys name a command.
        if (d === undefined || !Object.hasOwn(EDIT_COMMANDS, msg.params.action) || msg.params.index >= d.dataset.size) break;
        void vscode.commands.executeCommand(EDIT_COMMANDS[msg.params.action], d.key, msg.params.index);
        break;
      }
      default:
        this.ctx.log.warn(`records: unexpected message ${JSON.stringify(msg)?.slice(0, 200)}`);
    }
  }

  protected onDatasetChange(change: DatasetChange | undefined): void {
    if (!this.ready || change?.kind === 'indexing') return;
    void this.sendInit();
  }

  private async sendInit(): Promise<void> {
    const uri = this.uri;
    if (uri === undefined) {
      this.post(InitRecords({ message: vscode.l10n.t('No dataset: open a .jsonl file or run "RewardLens: Open Dataset…".') }));
      return;
    }
    const d = await this.ensureDataset();
    if (uri !== this.uri) return;
    if (d === undefined) {
      this.post(InitRecords({ message: vscode.l10n.t('The dataset is not open any more. Open it again to browse its records.') }));
      return;
    }
    const r = d.dataset.report;
    const focus = this.focus !== undefined && this.focus < d.dataset.size ? this.focus : undefined;
    this.focus = undefined;
    this.post(
      InitRecords({
        header: { uri: d.key, name: d.name, size: d.dataset.size, records: r.records, malformed: r.malformed, origin: d.origin, generation: d.generation },
        focus,
      }),
    );
  }

  protected onDispose(): void {
    if (RecordsPanel.current === this) RecordsPanel.current = undefined;
  }
}
