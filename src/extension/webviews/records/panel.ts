import * as vscode from 'vscode';
import type { RecordEditAction, RecordsState } from '../../../../webview/records-protocol';
import {
  EditRecord,
  FocusRecord,
  InitRecords,
  isRecordsState,
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
import { PanelSlot } from '../host';

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
  static readonly slot = new PanelSlot<RecordsPanel, RecordsState>(recordsViewType, isRecordsState);
  /** Record to select once the webview is ready. */
  private focus: number | undefined;

  static createOrShow(ctx: Ctx, uri: vscode.Uri, focus?: number, options: { beside?: boolean } = {}): RecordsPanel {
    const reuse = (current: RecordsPanel): void => {
      const same = current.uri?.toString() === uri.toString();
      current.focus = focus;
      current.retarget(uri);
      current.panel.reveal(undefined, options.beside);
      if (same && focus !== undefined && current.ready) {
        current.focus = undefined;
        current.post(FocusRecord({ index: focus }));
      }
    };
    const column = options.beside ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    return RecordsPanel.slot.show(
      reuse,
      vscode.l10n.t('Records'),
      { viewColumn: column, preserveFocus: options.beside === true },
      (panel) => new RecordsPanel(ctx, panel, uri, focus),
    );
  }

  static register(ctx: Ctx): void {
    RecordsPanel.slot.register(ctx, (panel, state) => new RecordsPanel(ctx, panel, state && vscode.Uri.parse(state.uri, true), state?.selected));
  }

  private constructor(ctx: Ctx, panel: vscode.WebviewPanel, uri: vscode.Uri | undefined, focus: number | undefined) {
    super(ctx, panel, uri, { script: 'records', title: vscode.l10n.t('Records'), ready: RecordsReady });
    this.focus = focus;
    this.on(RequestPage, ({ generation, start, count }) => {
      const d = this.dataset;
      if (d === undefined || d.generation !== generation) return;
      this.post(RecordsPage({ generation, start, rows: recordRows(d.dataset, Math.floor(start), Math.min(MAX_PAGE, Math.floor(count))) }));
    });
    this.on(SelectRecord, ({ index }) => {
      const d = this.dataset;
      if (d === undefined || index >= d.dataset.size) return;
      this.post(ShowDetail({ detail: recordDetail(d.dataset, index) }));
    });
    this.on(OpenRecordJson, ({ index }) => {
      if (this.dataset !== undefined) void vscode.commands.executeCommand(CommandId.ShowRecordJson, this.dataset.key, index);
    });
    this.on(RevealRecord, ({ index }) => {
      const d = this.dataset;
      if (d !== undefined && index < d.dataset.size) void this.revealLine(d.dataset.lineOf(index));
    });
    this.on(EditRecord, ({ index, action }) => {
      const d = this.dataset;
      // The action is the webview's word: only the table's own keys name a command.
      if (d === undefined || !Object.hasOwn(EDIT_COMMANDS, action) || index >= d.dataset.size) return;
      void vscode.commands.executeCommand(EDIT_COMMANDS[action], d.key, index);
    });
  }

  protected onReady(): void {
    void this.sendInit();
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
}
