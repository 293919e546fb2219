/** How long a stop may wait for the work in flight before the process quits anyway. */
export const STOP_GRACE_MS = 5000;

/**
 * Ctrl-C and SIGTERM abort `controller` (after `onFirst`, which says what happens); a second signal, or
 * STOP_GRACE_MS without the command ending (a long step, a slow judge call), quits at once with 130. What
 * the commands write is append-only or atomically replaced, so quitting loses nothing stored. Returns the cleanup.
 */
export function stopOnSignal(controller: AbortController, onFirst?: () => void): () => void {
  const onSignal = (): void => {
    if (controller.signal.aborted) process.exit(130);
    onFirst?.();
    controller.abort();
    setTimeout(() => process.exit(130), STOP_GRACE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
