import type { IpcMessage } from './ipc';

/** The webview side of `acquireVsCodeApi()`, typed with the view's saved state. */
interface VsCodeApi<S> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

export interface HostConnection<S> {
  post<P>(msg: IpcMessage<P>): void;
  getState(): S | undefined;
  setState(state: S): void;
  /** Calls `handler` with every message from the host (unvalidated: use the protocol's guards). */
  onMessage(handler: (msg: unknown) => void): void;
}

export function connect<S>(): HostConnection<S> {
  const api = acquireVsCodeApi<S>();
  return {
    post: (msg) => api.postMessage(msg),
    getState: () => api.getState(),
    setState: (s) => api.setState(s),
    onMessage: (handler) => window.addEventListener('message', (e: MessageEvent<unknown>) => handler(e.data)),
  };
}
