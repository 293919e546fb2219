/** What a page bound to one dataset keeps with `setState`: its URI, so that a restored panel shows it again. */
export interface DatasetState {
  uri: string;
}

/** The saved state of a panel being revived (what an older version of the page saved may differ). */
export function isDatasetState(state: unknown): state is DatasetState {
  const s = state as DatasetState | null;
  return typeof s === 'object' && s !== null && typeof s.uri === 'string';
}
