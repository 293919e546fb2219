import type { ByteSource } from './byte-source';
import { readRange } from './byte-source';
import { Growable } from './growable';
import type { Problem } from './record';

/**
 * Streaming discovery of the entries of a preference file — the lines of JSONL, or the elements of a
 * top-level JSON array — as byte ranges. The file is read in fixed-size chunks and never held whole;
 * a single entry may be larger than a chunk.
 */

export type FileFormat = 'jsonl' | 'json-array';

/** Called for each entry. `bytes` is only valid during the call (the chunk buffer is reused). */
export type EntrySink = (start: number, length: number, line: number, bytes: Buffer | undefined) => void;

export interface ScanOptions {
  chunkSize?: number;
  /** Hand the sink each entry's bytes (costs a copy only for entries that straddle chunks). */
  wantBytes?: boolean;
  /** Line number of the first byte of the range (1-based). */
  firstLine?: number;
  signal?: AbortSignal;
  /** Called after each chunk with the absolute byte position reached. */
  onChunk?: (position: number) => void;
}

export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB || c === CR || c === LF;
}

/** Bytes to skip at the start of the file: 3 for a UTF-8 byte-order mark, else 0. */
export function bomLength(source: ByteSource): number {
  const head = Buffer.alloc(3);
  const n = source.read(head, 0, 3);
  return n === 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
}

/** JSON-array files start (after BOM and whitespace) with `[`; everything else is read as JSONL. */
export function detectFormat(source: ByteSource): FileFormat {
  const head = Buffer.allocUnsafe(Math.min(source.size, 64 * 1024));
  const n = source.read(head, 0, head.length);
  let i = n >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? 3 : 0;
  while (i < n && isBlank(head[i])) i++;
  return i < n && head[i] === 0x5b ? 'json-array' : 'jsonl';
}

/**
 * Scans JSONL lines in `[from, to)`; `from` must be a line start. Blank (whitespace-only) lines are
 * skipped but counted, so reported line numbers match the editor's. Returns the number of line feeds
 * seen, which lets parallel scans of consecutive ranges fix up their line numbers afterwards.
 */
export function scanJsonl(source: ByteSource, from: number, to: number, sink: EntrySink, options: ScanOptions = {}): number {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const buf = Buffer.allocUnsafe(chunkSize);
  const firstLine = options.firstLine ?? 1;
  let line = firstLine;
  let contentStart = -1; // absolute offset of the current line's first non-blank byte, -1 if none yet
  let previousChunkEndsWithCr = false;
  let pos = from;
  while (pos < to) {
    if (options.signal?.aborted) throw options.signal.reason;
    const n = source.read(buf, pos, Math.min(chunkSize, to - pos));
    if (n === 0) break;
    const view = n === chunkSize ? buf : buf.subarray(0, n);
    let i = 0;
    while (i < n) {
      if (contentStart < 0) {
        let c = view[i];
        while (c === SPACE || c === TAB || c === CR) {
          if (++i === n) break;
          c = view[i];
        }
        if (i === n) break;
        if (c === LF) {
          line++;
          i++;
          continue;
        }
        contentStart = pos + i;
      }
      const nl = view.indexOf(LF, i);
      if (nl < 0) {
        i = n;
        break;
      }
      // A CR before the LF belongs to the line end, not to the record.
      const crlf = nl > 0 ? view[nl - 1] === CR : previousChunkEndsWithCr;
      const end = pos + nl - (crlf && pos + nl > contentStart ? 1 : 0);
      emit(source, sink, contentStart, end, line, view, pos, options.wantBytes === true);
      line++;
      contentStart = -1;
      i = nl + 1;
    }
    previousChunkEndsWithCr = view[n - 1] === CR;
    pos += n;
    options.onChunk?.(pos);
  }
  if (contentStart >= 0) emit(source, sink, contentStart, pos - (previousChunkEndsWithCr ? 1 : 0), line, undefined, pos, options.wantBytes === true);
  return line - firstLine;
}

function emit(
  source: ByteSource,
  sink: EntrySink,
  start: number,
  end: number,
  line: number,
  chunk: Buffer | undefined,
  chunkPos: number,
  wantBytes: boolean,
): void {
  let bytes: Buffer | undefined;
  if (wantBytes) bytes = chunk !== undefined && start >= chunkPos ? chunk.subarray(start - chunkPos, end - chunkPos) : readRange(source, start, end - start);
  sink(start, end - start, line, bytes);
}

/**
 * Scans the elements of a top-level JSON array (usually pretty-printed over many lines) by tracking
 * nesting and string state byte by byte. Structural damage ends the scan with a problem that says
 * where; the elements found before it stay usable.
 */
export function scanJsonArray(source: ByteSource, sink: EntrySink, options: ScanOptions = {}): Problem[] {
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const buf = Buffer.allocUnsafe(chunkSize);
  const wantBytes = options.wantBytes === true;
  const problems: Problem[] = [];
  const enum State {
    BeforeArray,
    ExpectValue,
    InValue,
    AfterValue,
    AfterArray,
  }
  let state = State.BeforeArray as State;
  let line = 1;
  let depth = 0; // nesting inside the current element
  let inString = false;
  let escaped = false;
  let scalar = false; // current element is a bare number/literal, ended by a delimiter
  let elementStart = 0;
  let elementLine = 0;
  let pos = bomLength(source);
  const fail = (reason: string): Problem[] => {
    problems.push({ line, reason: `${reason}; the rest of the file was not indexed`, severity: 'error' });
    return problems;
  };
  while (pos < source.size) {
    if (options.signal?.aborted) throw options.signal.reason;
    const n = source.read(buf, pos, Math.min(chunkSize, source.size - pos));
    if (n === 0) break;
    const view = n === chunkSize ? buf : buf.subarray(0, n);
    for (let i = 0; i < n; i++) {
      const c = view[i];
      if (c === LF) line++;
      switch (state) {
        case State.InValue:
          if (inString) {
            if (escaped) escaped = false;
            else if (c === 0x5c) escaped = true;
            else if (c === 0x22) {
              inString = false;
              if (depth === 0) {
                emit(source, sink, elementStart, pos + i + 1, elementLine, view, pos, wantBytes);
                state = State.AfterValue;
              }
            }
          } else if (scalar) {
            if (isBlank(c) || c === 0x2c || c === 0x5d) {
              emit(source, sink, elementStart, pos + i, elementLine, view, pos, wantBytes);
              state = State.AfterValue;
              i--; // let AfterValue see the delimiter
              if (c === LF) line--;
            }
          } else if (c === 0x22) inString = true;
          else if (c === 0x7b || c === 0x5b) depth++;
          else if (c === 0x7d || c === 0x5d) {
            if (--depth === 0) {
              emit(source, sink, elementStart, pos + i + 1, elementLine, view, pos, wantBytes);
              state = State.AfterValue;
            }
          }
          break;
        case State.ExpectValue:
          if (isBlank(c) || c === 0x2c) break;
          if (c === 0x5d) {
            state = State.AfterArray;
            break;
          }
          elementStart = pos + i;
          elementLine = line;
          state = State.InValue;
          inString = c === 0x22;
          escaped = false;
          scalar = !inString && c !== 0x7b && c !== 0x5b;
          depth = inString || scalar ? 0 : 1;
          break;
        case State.AfterValue:
          if (isBlank(c)) break;
          if (c === 0x2c) state = State.ExpectValue;
          else if (c === 0x5d) state = State.AfterArray;
          else return fail(`expected ',' or ']' after the array element that starts on line ${elementLine}, found '${String.fromCharCode(c)}'`);
          break;
        case State.BeforeArray:
          if (isBlank(c)) break;
          if (c !== 0x5b) return fail(`expected '[' to start a JSON array, found '${String.fromCharCode(c)}'`);
          state = State.ExpectValue;
          break;
        case State.AfterArray:
          if (!isBlank(c)) return fail(`unexpected '${String.fromCharCode(c)}' after the end of the JSON array`);
          break;
      }
    }
    pos += n;
    options.onChunk?.(pos);
  }
  if (state === State.InValue && scalar) {
    emit(source, sink, elementStart, pos, elementLine, undefined, pos, wantBytes);
    state = State.AfterValue;
  }
  if (state === State.InValue) {
    problems.push({ line: elementLine, reason: 'the file ends inside this array element (truncated file?)', severity: 'error' });
  } else if (state !== State.AfterArray) {
    problems.push({ line, reason: "the file ends before the JSON array's closing ']' (truncated file?)", severity: 'error' });
  }
  return problems;
}

/** Byte ranges and first lines of every entry: 16 bytes per entry, whatever the file size. */
export interface OffsetIndex {
  format: FileFormat;
  size: number;
  starts: Float64Array;
  lengths: Uint32Array;
  lines: Uint32Array;
  /** Structural problems found while scanning (a truncated JSON array, an oversized line). */
  problems: Problem[];
}

export class OffsetCollector {
  private readonly starts = new Growable(Float64Array);
  private readonly lengths = new Growable(Uint32Array);
  private readonly lines = new Growable(Uint32Array);
  readonly problems: Problem[] = [];

  readonly add = (start: number, length: number, line: number): void => {
    if (length > 0xffffffff) {
      this.problems.push({ line, reason: `entry of ${length} bytes is larger than the 4 GiB limit`, severity: 'error' });
      return;
    }
    this.starts.push(start);
    this.lengths.push(length);
    this.lines.push(line);
  };

  get count(): number {
    return this.starts.length;
  }

  /** Byte range `[start, length]` of entry `i` collected so far. */
  entry(i: number): [number, number] {
    return [this.starts.get(i), this.lengths.get(i)];
  }

  finish(format: FileFormat, size: number, structural: Problem[] = []): OffsetIndex {
    return {
      format,
      size,
      starts: this.starts.trimmed(),
      lengths: this.lengths.trimmed(),
      lines: this.lines.trimmed(),
      problems: [...this.problems, ...structural],
    };
  }
}

/** The offset index alone: what makes every entry reachable, as fast as the disk allows. */
export function buildOffsetIndex(source: ByteSource, options: ScanOptions = {}): OffsetIndex {
  const format = detectFormat(source);
  const collector = new OffsetCollector();
  const opts = { ...options, wantBytes: false };
  const structural =
    format === 'json-array' ? scanJsonArray(source, collector.add, opts) : (scanJsonl(source, bomLength(source), source.size, collector.add, opts), []);
  return collector.finish(format, source.size, structural);
}

/** Index of the entry whose first line is `line`, or the entry spanning it; -1 if none. */
export function entryAtLine(lines: Uint32Array, line: number): number {
  let lo = 0;
  let hi = lines.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (lines[mid] <= line) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
