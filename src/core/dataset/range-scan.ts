import type { RecordAdapter } from './adapter';
import type { ByteSource } from './byte-source';
import { parseEntry } from './entry';
import { Growable } from './growable';
import type { FileFormat } from './offsets';
import { OffsetCollector, scanJsonArray, scanJsonl } from './offsets';
import { findPiiInRecord } from './pii';
import type { Problem } from './record';
import { readRange } from './byte-source';
import { FirstSeen } from './hash-table';
import { first52Bits, promptDigest, recordKey } from './record-id';
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
  /**
   * Per entry: 52-bit record key, computed only for entries whose prompt repeats within the range;
   * NaN otherwise (and for malformed entries). The merge computes what cross-range repeats need.
   */
  idHashes: Float64Array;
  /** Per entry: 52-bit hash of the conversation context, NaN for malformed entries. */
  promptHashes: Float64Array;
  problems: Problem[];
  malformed: number;
  /** Of the malformed, those that are no entry (a truncated array's tail, an oversized line): each counts as a record too. */
  unreadable: number;
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

  const localPrompts = new FirstSeen(1024);

  const onEntry = (start: number, length: number, line: number, bytes: Buffer | undefined): void => {
    const entry = offsets.count;
    offsets.add(start, length, line);
    if (offsets.count === entry) return; // refused (oversized), already reported
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
    const digest = promptDigest(record);
    const prompt = first52Bits(digest);
    promptHashes.push(prompt);
    // Record keys cost a second SHA-256 per record (~15% of the scan): only repeats need them.
    const first = localPrompts.getOrAdd(prompt, entry);
    idHashes.push(first >= 0 ? recordKey(digest, record) : NaN);
    if (first >= 0 && Number.isNaN(idHashes.get(first))) idHashes.set(first, rereadRecordKey(source, adapter, ...offsets.entry(first)));
    addRecord(stats, record, line, findPiiInRecord(record));
  };

  const options = { chunkSize: request.chunkSize, wantBytes: true, signal: request.signal, onChunk: request.onChunk };
  let newlines = 0;
  const structural = request.format === 'json-array' ? scanJsonArray(source, onEntry, options) : [];
  if (request.format === 'jsonl') newlines = scanJsonl(source, request.from, request.to, onEntry, options);
  const unreadable = [...structural, ...offsets.problems];
  for (const p of unreadable) report(p.line, p.reason, p.severity);
  malformed += unreadable.length;
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
    unreadable: unreadable.length,
    stats,
  };
}

/** The record key of the entry at `[start, start + length)`, read again (NaN if it does not map). */
export function rereadRecordKey(source: ByteSource, adapter: RecordAdapter, start: number, length: number): number {
  const parsed = parseEntry(readRange(source, start, length));
  const mapped = parsed.ok ? adapter.map(parsed.value) : parsed;
  return mapped.ok ? recordKey(promptDigest(mapped.value), mapped.value) : NaN;
}
