import type { ByteSource } from './byte-source';
import { readRange } from './byte-source';
import { bomLength } from './offsets';

/**
 * What a file is, in words, when it is not a list of records: without this, plain text, UTF-16 or a
 * pretty-printed JSON object index as "0 records" and every later step says only "no training pairs".
 */

/** Head of the file read to recognise one pretty-printed JSON value; larger values get the generic reason. */
const SNIFF_BYTES = 16 * 1024 * 1024;

/** UTF-16 is the one encoding whose byte-order mark says for certain that the file is not UTF-8. */
export function utf16Reason(source: ByteSource): string | undefined {
  const head = readRange(source, 0, Math.min(2, source.size));
  const bom = head.length === 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff));
  return bom ? 'UTF-16 (BOM) — convert it to UTF-8 (e.g. iconv -f UTF-16 -t UTF-8 FILE > OUT.jsonl)' : undefined;
}

/**
 * Why the file's entries are not JSON records, from its first bytes: empty, not text, not JSON, one
 * JSON object over many lines (with the path of its list of records), or JSONL with values spread
 * over several lines. Called only when most sampled entries did not parse.
 */
export function notRecordsReason(source: ByteSource): string {
  const from = bomLength(source);
  const head = readRange(source, from, Math.min(source.size - from, SNIFF_BYTES));
  const whole = from + head.length === source.size;
  let i = 0;
  while (i < head.length && isBlank(head[i])) i++;
  if (i === head.length) return 'empty file, no records';
  const line = 1 + countLineFeeds(head, i);
  const lineEnd = head.indexOf(0x0a, i);
  const firstLine = head.subarray(i, Math.min(lineEnd < 0 ? head.length : lineEnd, i + 256));
  if (firstLine.includes(0)) return `line ${line} holds NUL bytes: a binary file, or UTF-16 without a byte-order mark (convert it to UTF-8)`;
  const invalid = firstInvalidByte(firstLine);
  if (invalid >= 0)
    return `not UTF-8 text: line ${line} has the byte 0x${firstLine[invalid].toString(16).padStart(2, '0')} that UTF-8 does not allow (a binary file?)`;
  if (head[i] === 0x7b || head[i] === 0x5b) {
    const text = head.toString('utf8', i);
    const end = endOfFirstValue(text);
    const value = end === undefined ? undefined : tryParse(text.slice(0, end));
    if (value !== undefined && text.slice(0, end).includes('\n')) {
      const rest = text.slice(end).trimStart();
      if (rest === '' && whole && head[i] === 0x7b) return objectReason(value);
      if (rest.startsWith('{') || rest.startsWith('[')) {
        return 'multi-line JSON values (pretty-printed JSONL) — one record per line is needed (e.g. jq -c . FILE > OUT.jsonl)';
      }
    }
    if (end === undefined) {
      const what = whole ? 'the file never closes (truncated?)' : `does not close within the first ${SNIFF_BYTES / 1024 / 1024} MiB`;
      return `line ${line} opens a JSON value that ${what}: one pretty-printed JSON object is not a list of records — a JSON array of records or one record per line (JSONL) is needed`;
    }
  }
  const shown = firstLine.toString('utf8').replace(/\s+$/, '');
  return `not JSON: line ${line} starts with ${JSON.stringify(shown.length > 40 ? `${shown.slice(0, 40)}…` : shown)}`;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;
}

function countLineFeeds(bytes: Uint8Array, end: number): number {
  let n = 0;
  for (let k = 0; k < end; k++) if (bytes[k] === 0x0a) n++;
  return n;
}

/** Offset of the first byte that is not UTF-8, or -1; a character cut off at the end is not an error. */
function firstInvalidByte(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    decoder.decode(bytes, { stream: true });
    return -1;
  } catch {
    for (let n = bytes.length - 1; n >= 0; n--) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream: true });
        return n;
      } catch {
        // keep shortening until the prefix decodes: the byte after it is the culprit
      }
    }
    return 0;
  }
}

/** End (exclusive) of the JSON object or array at the start of `text`, by bracket depth; undefined if it does not end. */
function endOfFirstValue(text: string): number | undefined {
  let depth = 0;
  let inString = false;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (inString) {
      if (c === 0x5c) k++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return k + 1;
  }
  return undefined;
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** One object for the whole file: say where its records are, if it holds a list of objects. */
export function objectReason(value: unknown): string {
  const path = recordsPath(value);
  if (path === undefined) return 'one JSON object, not a list of records — a JSON array of records or one record per line (JSONL) is needed';
  const jq = path.map((key) => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `.[${JSON.stringify(key)}]`)).join('');
  return `a JSON object whose array of records is at \`${path.join('.')}\` — extract it (e.g. jq -c '${jq}[]' FILE > OUT.jsonl)`;
}

/** Path of the longest list of objects within three levels of `value`, or undefined. */
export function recordsPath(value: unknown): string[] | undefined {
  let best: { path: string[]; length: number } | undefined;
  const visit = (node: unknown, path: string[]): void => {
    if (typeof node !== 'object' || node === null || path.length > 3) return;
    if (Array.isArray(node)) {
      const objects = node.filter((e) => typeof e === 'object' && e !== null && !Array.isArray(e)).length;
      if (path.length > 0 && objects * 2 > node.length && (best === undefined || node.length > best.length)) best = { path, length: node.length };
      return;
    }
    for (const [key, child] of Object.entries(node)) visit(child, [...path, key]);
  };
  visit(value, []);
  return best?.path;
}
