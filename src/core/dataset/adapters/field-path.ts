import { isObject, kindOf } from './values';

/**
 * Field paths of mapping files: `a.b`, `dialog[0]`, `dialog[-1].content` (negative indices count
 * from the end), `["response 1"]` or plain `response 1` for keys with spaces, `["a.b"]` for keys with
 * dots or brackets, and a slice `dialog[:-1]` / `dialog[1:]` as the last step (a list of elements).
 */

export type PathStep = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'slice'; start?: number; end?: number };

export interface FieldPath {
  /** The path as written, for reasons. */
  text: string;
  steps: PathStep[];
}

export type PathParse = { ok: true; path: FieldPath } | { ok: false; message: string; at: number };

export function parseFieldPath(text: string): PathParse {
  const steps: PathStep[] = [];
  let i = 0;
  const failAt = (message: string, at: number): PathParse => ({ ok: false, message, at });
  if (text.length === 0) return failAt('empty field path', 0);
  while (i < text.length) {
    if (text[i] === '[') {
      const close = findClose(text, i);
      if (close < 0) return failAt(`unclosed "[" in field path "${text}"`, i);
      const inner = text.slice(i + 1, close).trim();
      const step = parseBracket(inner);
      if (step === undefined) return failAt(`"[${inner}]" is not an index, a slice or a quoted key`, i);
      steps.push(step);
      i = close + 1;
    } else {
      if (steps.length > 0) {
        if (text[i] !== '.') return failAt(`expected "." or "[" at position ${i + 1} of field path "${text}"`, i);
        i++;
      }
      let end = i;
      while (end < text.length && text[end] !== '.' && text[end] !== '[') {
        if (text[end] === ']') return failAt(`unexpected "]" at position ${end + 1} of field path "${text}"`, end);
        end++;
      }
      if (end === i) return failAt(`empty field name at position ${i + 1} of field path "${text}"`, i);
      steps.push({ kind: 'key', key: text.slice(i, end) });
      i = end;
    }
  }
  const sliceAt = steps.findIndex((s) => s.kind === 'slice');
  if (sliceAt >= 0 && sliceAt < steps.length - 1) return failAt(`a slice must be the last step of field path "${text}"`, text.indexOf(':'));
  return { ok: true, path: { text, steps } };
}

/** The `]` closing the bracket at `open`, skipping one inside a quoted key. */
function findClose(text: string, open: number): number {
  let quote: string | undefined;
  for (let j = open + 1; j < text.length; j++) {
    const c = text[j];
    if (quote) {
      if (c === '\\') j++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ']') return j;
  }
  return -1;
}

function parseBracket(inner: string): PathStep | undefined {
  if (/^-?\d+$/.test(inner)) return { kind: 'index', index: Number(inner) };
  const slice = /^(-?\d+)?\s*:\s*(-?\d+)?$/.exec(inner);
  if (slice) {
    const step: PathStep = { kind: 'slice' };
    if (slice[1] !== undefined) step.start = Number(slice[1]);
    if (slice[2] !== undefined) step.end = Number(slice[2]);
    return step;
  }
  if (inner.length >= 2 && inner[0] === inner[inner.length - 1] && (inner[0] === '"' || inner[0] === "'")) {
    const body = inner.slice(1, -1);
    if (inner[0] === '"') {
      try {
        return { kind: 'key', key: JSON.parse(inner) as string };
      } catch {
        return undefined;
      }
    }
    return { kind: 'key', key: body.replace(/\\(.)/g, '$1') };
  }
  return undefined;
}

export type Resolved = { found: true; value: unknown } | { found: false; reason: string };

/**
 * Follows a path through a parsed value. A missing key or an index out of range is `found: false`
 * with a reason naming the part of the path that failed, never an exception.
 */
export function resolvePath(root: unknown, path: FieldPath): Resolved {
  let value = root;
  let walked = '';
  for (const step of path.steps) {
    const here = walked === '' ? 'the record' : `"${walked}"`;
    if (step.kind === 'key') {
      walked = walked === '' ? step.key : `${walked}.${step.key}`;
      if (!isObject(value)) return { found: false, reason: `${here} is ${kindOf(value)}, not an object, so "${walked}" does not exist` };
      if (value[step.key] === undefined) return { found: false, reason: `no field "${walked}"` };
      value = value[step.key];
    } else if (step.kind === 'index') {
      walked = `${walked}[${step.index}]`;
      if (!Array.isArray(value)) return { found: false, reason: `${here} is ${kindOf(value)}, not a list, so "${walked}" does not exist` };
      const at = step.index < 0 ? value.length + step.index : step.index;
      if (at < 0 || at >= value.length) return { found: false, reason: `"${walked}" is out of range (the list has ${value.length} elements)` };
      value = value[at] as unknown;
    } else {
      walked = `${walked}[${step.start ?? ''}:${step.end ?? ''}]`;
      if (!Array.isArray(value)) return { found: false, reason: `${here} is ${kindOf(value)}, not a list, so "${walked}" does not exist` };
      value = value.slice(step.start, step.end);
    }
  }
  return { found: true, value };
}
