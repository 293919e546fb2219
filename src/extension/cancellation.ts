import type * as vscode from 'vscode';
import { CancelledError } from '../core/cancelled';

export { CancelledError, isCancellation } from '../core/cancelled';

/*
 * VS Code cancellation tokens → the `AbortControllers` whose signals src/core takes: the one way the
 * extension turns a token (a progress notification's Cancel, a provider's request) into an abort.
 */

/** Aborts `controller` with a `CancelledError` once `token` is cancelled (at once when it is already); dispose to stop listening. */
export function abortOnCancel(token: vscode.CancellationToken, controller: AbortController): vscode.Disposable {
  if (token.isCancellationRequested) controller.abort(new CancelledError());
  return token.onCancellationRequested(() => controller.abort(new CancelledError()));
}

/** Aborts `controller` once every one of `tokens` is cancelled: work shared by several callers stops when none waits for it. */
export function abortOnAllCancelled(tokens: readonly vscode.CancellationToken[], controller: AbortController): vscode.Disposable {
  const check = (): void => {
    if (tokens.every((t) => t.isCancellationRequested)) controller.abort(new CancelledError());
  };
  check();
  const listeners = tokens.map((t) => t.onCancellationRequested(check));
  return {
    dispose: () => {
      for (const l of listeners) l.dispose();
    },
  };
}
