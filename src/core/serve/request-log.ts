/**
 * What the policy was rewarded for, one canonical record per query (docs/record-model.md, the shape
 * `rewardlens convert` writes): the editor opens the log as a dataset, and `rewardlens score` reads it
 * back. Append-only; when the next line would pass the cap the file becomes FILE.1 (replacing an older
 * FILE.1) and a new file starts, so at most about twice the cap is kept.
 */
import { appendFileSync, closeSync, openSync, renameSync, statSync } from 'node:fs';
import { asFileError } from '../io/file-error';
import type { Turn } from '../dataset/record';
import { recordId } from '../dataset/record-id';
import type { ModelRecordScore } from '../scoring/session';

export const DEFAULT_LOG_MAX_BYTES = 64 * 1024 * 1024;

export interface LoggedQuery {
  context: Turn[];
  response: string;
  score: ModelRecordScore;
}

export class RequestLog {
  private bytes: number;

  constructor(
    readonly file: string,
    private readonly maxBytes = DEFAULT_LOG_MAX_BYTES,
  ) {
    // Opened now, so that a log the server cannot write (no such folder, a folder) stops it at start, not every request.
    try {
      closeSync(openSync(file, 'a'));
      this.bytes = statSync(file).size;
    } catch (e) {
      throw asFileError(file, e);
    }
  }

  /** One line per query; written synchronously so that lines of concurrent requests never interleave. */
  append(queries: readonly LoggedQuery[], at = new Date()): void {
    const served = at.toISOString();
    const text = queries.map((q) => JSON.stringify(logRecord(q, served)) + '\n').join('');
    const size = Buffer.byteLength(text);
    if (this.bytes > 0 && this.bytes + size > this.maxBytes) {
      renameSync(this.file, `${this.file}.1`);
      this.bytes = 0;
    }
    appendFileSync(this.file, text);
    this.bytes += size;
  }
}

function logRecord(q: LoggedQuery, served: string): Record<string, unknown> {
  const responses = [{ text: q.response }];
  const s = q.score;
  const metadata: Record<string, unknown> = { served, reward: s.logits[0], probability: s.rewards[0] };
  if (s.probabilities) metadata.probabilities = s.probabilities;
  if (s.capabilities) metadata.capabilities = Object.fromEntries(s.capabilities.map((c) => [c.point, c.scores[0]]));
  const record: Record<string, unknown> = { id: recordId({ context: q.context, responses }) };
  if (s.category !== undefined) record.category = s.category;
  return { ...record, context: q.context, responses, metadata };
}
