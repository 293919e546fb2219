import type * as vscode from 'vscode';

/** VS Code cancellation tokens ⇄ the `AbortSignal`s that src/core takes. */

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

/** An `AbortSignal` that aborts when `token` is cancelled; dispose the listener with `dispose`. */
export function signalOf(token: vscode.CancellationToken | undefined): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  if (token === undefined) return { signal: controller.signal, dispose: () => undefined };
  if (token.isCancellationRequested) controller.abort(new CancelledError());
  const listener = token.onCancellationRequested(() => controller.abort(new CancelledError()));
  return {
    signal: controller.signal,
    dispose: () => {
      listener.dispose();
    },
  };
}

export function isCancellation(e: unknown): boolean {
  return e instanceof CancelledError || (e instanceof Error && e.name === 'AbortError');
}
