/**
 * Reading a two-response verdict. The same digits mean different things in different datasets, so
 * each field has a fixed numeric encoding:
 * - `autoj` (AutoJ `label`, `gt_label`): 0 = response 1 better, 1 = response 2 better, 2 = tie;
 * - `numbered` (PandaLM `annotatorN`, `winner`): 0 = tie, 1 = response 1 better, 2 = response 2 better.
 * Words are encoding-free: `response 1`, `model_a`, `A`, `first`, `tie`, `both bad`, …
 */
export type VerdictEncoding = 'autoj' | 'numbered';

/** The winner's index (0 or 1), `null` for a tie, or `undefined` when the value is not a verdict. */
export function readVerdict(value: unknown, encoding: VerdictEncoding): number | null | undefined {
  if (typeof value === 'number') return fromNumber(value, encoding);
  if (typeof value !== 'string') return undefined;
  const word = value.toLowerCase().replace(/[\s_\-()]/g, '');
  if (/^\d+$/.test(word)) return fromNumber(Number(word), encoding);
  if (['response1', 'responsea', 'modela', 'a', 'first', 'output1', 'outputa', 'answer1'].includes(word)) return 0;
  if (['response2', 'responseb', 'modelb', 'b', 'second', 'output2', 'outputb', 'answer2'].includes(word)) return 1;
  if (['tie', 'equal', 'same', 'draw', 'tiebothbad', 'bothbad', 'bothgood', 'none', 'nopreference'].includes(word)) return null;
  return undefined;
}

function fromNumber(value: number, encoding: VerdictEncoding): number | null | undefined {
  if (encoding === 'autoj') return value === 0 ? 0 : value === 1 ? 1 : value === 2 ? null : undefined;
  return value === 0 ? null : value === 1 ? 0 : value === 2 ? 1 : undefined;
}

export function describeEncoding(encoding: VerdictEncoding): string {
  return encoding === 'autoj' ? '0 = response 1, 1 = response 2, 2 = tie' : '0 = tie, 1 = response 1, 2 = response 2';
}
