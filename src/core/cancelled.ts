/**
 * The one error a cancelled job ends with, in core and in the extension: callers tell a cancellation
 * (quiet, nothing to report) from a failure by it, or by the platform's AbortError.
 */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

export function isCancellation(e: unknown): boolean {
  return e instanceof CancelledError || (e instanceof Error && e.name === 'AbortError');
}
