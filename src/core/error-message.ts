/** A readable message from anything thrown: the one form for the extension, the CLI and core's reports. */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  // JSON.stringify gives undefined for undefined, functions and symbols.
  return typeof e === 'string' ? e : (JSON.stringify(e) ?? String(e));
}
