/** Messages of errors for the UI: kept apart from context.ts so that modules it imports can use it too. */

/** A readable message from anything thrown. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return typeof e === 'string' ? e : JSON.stringify(e);
}
