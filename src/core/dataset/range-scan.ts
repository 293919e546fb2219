import type { RecordAdapter } from './adapter';
import type { ByteSource } from './byte-source';
import { parseEntry } from './entry';
import { Growable } from './growable';
import type { FileFormat } from './offsets';
import { OffsetCollector, scanJsonArray, scanJsonl } from './offsets';
import { findPiiInRecord } from './pii';
import type { Problem } from './record';
import { recordHashes } from './record-id';
import type { StatsPartial } from './stats';
import { addRecord, emptyStats } from './stats';

/**
 * The full index of one byte range of a file: offsets, parsing, mapping, validation and statistics
 * in a single pass, so each byte is read once. Runs in a worker thread per range for large JSONL
 * files, or in the calling thread.
 */

export interface RangeResult {
  /** Line feeds in the range; lines below count from 1 at the range start. */
  newlines: number;
  starts: Float64Array;
  lengths: Uint32Array;
  lines: Uint32Array;
  /** Per entry: 52-bit record-id hash, NaN for malformed entries. */
  idHashes: Float64Array;
  /** Per entry: 52-bit hash of the conversation context, NaN for malformed entries. */
  promptHashes: Float64Array;
  problems: Problem[];
  malformed: number;
  stats: StatsPartial;
}

/** Problems kept per scan; beyond this only the count grows (a broken 1 GiB file must not OOM). */
export const MAX_PROBLEMS = 100_000;

export interface RangeRequest {
  format: FileFormat;
  from: number;
  to: number;
  chunkSize?: number;
  signal?: AbortSignal;
  onChunk?: (position: number) => void;
}

export function scanRange(source: ByteSource, adapter: RecordAdapter, request: RangeRequest): RangeResult {
  const offsets = new OffsetCollector();
  const idHashes = new Growable(Float64Array);
  const promptHashes = new Growable(Float64Array);
  const problems: Problem[] = [];
  const stats = emptyStats();
  let malformed = 0;
  const report = (line: number, reason: string, severity: Problem['severity']): void => {
    if (problems.length < MAX_PROBLEMS) problems.push({ line, reason, severity });
  };

  const onEntry = (start: number, length: number, line: number, bytes: Buffer | undefined): void => {
    offsets.add(start, length, line);
    const parsed = parseEntry(bytes!);
    const mapped = parsed.ok ? adapter.map(parsed.value) : parsed;
    if (!mapped.ok) {
      malformed++;
      report(line, mapped.reason, 'error');
      idHashes.push(NaN);
      promptHashes.push(NaN);
      return;
    }
    for (const w of mapped.warnings ?? []) report(line, w, 'warning');
    const record = mapped.value;
    const hashes = recordHashes(record);
    idHashes.push(hashes.id);
    promptHashes.push(hashes.prompt);
    addRecord(stats, record, line, findPiiInRecord(record));
  };

  const options = { chunkSize: request.chunkSize, wantBytes: true, signal: request.signal, onChunk: request.onChunk };
  let newlines = 0;
  if (request.format === 'json-array') {
    for (const p of scanJsonArray(source, onEntry, options)) {
      malformed++;
      report(p.line, p.reason, p.severity);
    }
  } else {
    newlines = scanJsonl(source, request.from, request.to, onEntry, options);
  }
  for (const p of offsets.problems) {
    malformed++;
    report(p.line, p.reason, p.severity);
  }
  const index = offsets.finish(request.format, source.size);
  return {
    newlines,
    starts: index.starts,
    lengths: index.lengths,
    lines: index.lines,
    idHashes: idHashes.trimmed(),
    promptHashes: promptHashes.trimmed(),
    problems,
    malformed,
    stats,
  };
}
