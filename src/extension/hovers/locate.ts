import { createScanner, SyntaxKind } from 'jsonc-parser';
import type { PreferenceRecord } from '../../core/dataset/record';

/**
 * Which response of a record a position in its JSON text belongs to. Pure: the hover provider
 * passes the line's text. JSON strings never span lines, so one line is enough to find the string
 * value under the cursor.
 */

export interface StringAt {
  /** The decoded string value. */
  value: string;
  /** Character range of the literal (quotes included) on the line. */
  start: number;
  end: number;
  /** The literal is an object key, not a value. */
  isKey: boolean;
}

/** The JSON string literal at `character` of `lineText`, if the position is inside one. */
export function stringAt(lineText: string, character: number): StringAt | undefined {
  const scanner = createScanner(lineText, true);
  for (let kind = scanner.scan(); kind !== SyntaxKind.EOF; kind = scanner.scan()) {
    const start = scanner.getTokenOffset();
    const end = start + scanner.getTokenLength();
    if (start > character) return undefined;
    if (kind !== SyntaxKind.StringLiteral || character < start || character >= end) continue;
    const value = scanner.getTokenValue();
    return { value, start, end, isKey: scanner.scan() === SyntaxKind.ColonToken };
  }
  return undefined;
}

/**
 * The response whose text is the string `value`: equal to it, or — for transcript formats such as
 * HH-RLHF, where a string holds the conversation and ends with the response — the one response it
 * contains, preferring the one it ends with. `undefined` when the string is no single response's.
 */
export function responseForString(record: PreferenceRecord, value: string): number | undefined {
  const texts = record.responses.map((r) => r.text);
  const exact = texts.flatMap((t, i) => (t === value ? [i] : []));
  if (exact.length === 1) return exact[0];
  if (exact.length > 1) return undefined;
  const trimmed = value.trim();
  const contained = texts.flatMap((t, i) => (t.trim() !== '' && trimmed.includes(t.trim()) ? [i] : []));
  if (contained.length === 1) return contained[0];
  const ending = contained.filter((i) => trimmed.endsWith(texts[i].trim()));
  return ending.length === 1 ? ending[0] : undefined;
}
