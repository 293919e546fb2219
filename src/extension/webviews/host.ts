import * as vscode from 'vscode';
import type { IpcMessage, IpcMessageType } from '../../../webview/lib/ipc';
import type { Ctx } from '../context';
import { webviewHtml, webviewOptions } from './html';

/** What a host needs to know of its view: the bundle, the title, and the message that says the page has loaded. */
export interface ViewSpec<R> {
  /** The bundle (media/webview/<script>.js) and stylesheet (media/<script>.css). */
  script: string;
  /** The panel's title, and the subject of "… failed" errors and of log lines. */
  title: string;
  /** Sent by the page once its script runs; messages posted before it are lost. */
  ready: IpcMessageType<R>;
}

/**
 * The host side of one webview panel: the HTML shell, the `_disposables` lifecycle of the webview
 * sample, typed post and receive, and the ready handshake. Subclasses say what each message does
 * with `on(Type, handler)`; a message no handler accepts is logged and dropped (webviews are untrusted).
 */
export abstract class WebviewHost<R extends object = Record<string, never>> implements vscode.Disposable {
  protected readonly disposables: vscode.Disposable[] = [];
  /** The webview has loaded its script and said so. */
  protected ready = false;
  protected disposed = false;
  /** By method: false when the message is malformed. */
  private readonly handlers = new Map<string, (msg: unknown) => boolean>();
  /** The params of the last message posted, by method (the integration tests read them through src/extension/testing.ts). */
  private readonly posted = new Map<string, unknown>();

  protected constructor(
    protected readonly ctx: Ctx,
    readonly panel: vscode.WebviewPanel,
    protected readonly view: ViewSpec<R>,
  ) {
    panel.webview.options = webviewOptions(ctx.extensionUri);
    panel.webview.html = webviewHtml(panel.webview, ctx.extensionUri, view);
    panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'rewardlens.svg');
    panel.title = view.title;
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
    panel.webview.onDidReceiveMessage((msg: unknown) => this.receive(msg), null, this.disposables);
    this.on(view.ready, (params) => {
      this.ready = true;
      this.onReady(params);
    });
  }

  /** Handles messages of `type` (only well-formed ones: `type.is` checks their params). */
  protected on<P>(type: IpcMessageType<P>, handle: (params: P) => void): void {
    this.handlers.set(type.method, (msg) => {
      if (!type.is(msg)) return false;
      handle(msg.params);
      return true;
    });
  }

  /** The page has (re)loaded: post everything it shows. */
  protected abstract onReady(params: R): void;

  protected post<P>(msg: IpcMessage<P>): void {
    if (this.disposed) return;
    this.posted.set(msg.method, msg.params);
    void this.panel.webview.postMessage(msg);
  }

  /** The params of the last message of `type` posted to the page. */
  lastPosted<P>(type: IpcMessageType<P>): P | undefined {
    return this.posted.get(type.method) as P | undefined;
  }

  private receive(msg: unknown): void {
    const method = typeof msg === 'object' && msg !== null ? (msg as { method?: unknown }).method : undefined;
    const handler = typeof method === 'string' ? this.handlers.get(method) : undefined;
    try {
      if (handler?.(msg) !== true) this.ctx.log.warn(`${this.view.title}: unexpected message ${JSON.stringify(msg)?.slice(0, 200)}`);
    } catch (e) {
      this.ctx.showError(vscode.l10n.t('{0} failed', this.view.title), e);
    }
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose();
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  /** Stops what the panel runs (timers, scoring); called once, before the panel goes. */
  protected onDispose(): void {}
}

/**
 * The one panel of a view type: created on demand, revived after a window reload from the state its
 * page saved (`isState`: the protocol file's guard), disposed with the extension.
 */
export class PanelSlot<T extends { readonly panel: vscode.WebviewPanel; dispose(): void }, S> {
  current: T | undefined;

  constructor(
    readonly viewType: string,
    private readonly isState: (state: unknown) => state is S,
  ) {}

  /** The current panel after `reuse` (reveal, retarget), or a new one placed at `column` with `make`'s host in it. */
  show(
    reuse: (current: T) => void,
    title: string,
    column: vscode.ViewColumn | { viewColumn: vscode.ViewColumn; preserveFocus?: boolean },
    make: (panel: vscode.WebviewPanel) => T,
  ): T {
    if (this.current === undefined) return this.hold(make(vscode.window.createWebviewPanel(this.viewType, title, column, {})));
    reuse(this.current);
    return this.current;
  }

  /** Registers the serializer (once, at activation): `revive` gets the saved state when it passes the guard. */
  register(ctx: Ctx, revive: (panel: vscode.WebviewPanel, state: S | undefined) => T): void {
    ctx.push(
      vscode.window.registerWebviewPanelSerializer(this.viewType, {
        deserializeWebviewPanel: (panel, state: unknown) => {
          this.current?.dispose();
          this.hold(revive(panel, this.isState(state) ? state : undefined));
          return Promise.resolve();
        },
      }),
    );
    ctx.push({ dispose: () => this.current?.dispose() });
  }

  private hold(host: T): T {
    this.current = host;
    host.panel.onDidDispose(() => {
      if (this.current === host) this.current = undefined;
    });
    return host;
  }
}
