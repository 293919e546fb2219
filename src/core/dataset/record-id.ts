import { hash } from 'node:crypto';
import type { MappedRecord } from './adapter';
import type { Turn } from './record';

/**
 * Content hashes. The id covers the conversation and the response texts only, so the same record
 * gets the same id whatever file shape it came from (that is what makes duplicate and train/test
 * overlap checks meaningful across formats). Fields are length-prefixed, which keeps the key
 * unambiguous without the cost of JSON-escaping every text (that was 4× slower). The id hashes the
 * prompt's hash rather than the prompt, so the long part of a record is hashed once for both.
 */

function contextKey(context: readonly Turn[]): string {
  let key = '';
  for (const t of context) key += `${t.role}:${t.content.length}:${t.content}`;
  return key;
}

function fullPromptHash(context: readonly Turn[]): string {
  return hash('sha256', contextKey(context), 'hex');
}

function idFromPromptHash(promptHash: string, record: MappedRecord): string {
  let key = promptHash;
  for (const r of record.responses) key += `${r.text.length}:${r.text}`;
  return hash('sha256', key, 'hex').slice(0, 16);
}

export function recordId(record: MappedRecord): string {
  return idFromPromptHash(fullPromptHash(record.context), record);
}

export function promptKeyHash(context: readonly Turn[]): string {
  return fullPromptHash(context).slice(0, 16);
}

/**
 * Duplicate-detection keys for the index pass, as exact doubles (52 bits): cheap to ship between
 * threads and compare. They only need to be equal exactly for equal content, so they take digests as
 * latin1 strings (one char per byte) and read 52 bits off the chars (hex + parseInt cost ~0.5 µs of
 * the ~2.9 µs of hashing a record). The record key is only needed for records whose prompt repeats
 * (a duplicate record has a duplicate prompt), so it is computed from the prompt digest on demand.
 */
export function promptDigest(record: MappedRecord): string {
  return hash('sha256', contextKey(record.context), 'binary'); // 'binary' is Node's name for latin1
}

export function recordKey(promptDigest: string, record: MappedRecord): number {
  let key = promptDigest; // 32 chars, so the key stays unambiguous
  for (const r of record.responses) key += `${r.text.length}:${r.text}`;
  return first52Bits(hash('sha256', key, 'binary'));
}

/** The first 52 bits of a latin1 digest (one char per byte), as `hashToNumber` reads them off hex. */
export function first52Bits(digest: string): number {
  const high = ((digest.charCodeAt(0) << 24) | (digest.charCodeAt(1) << 16) | (digest.charCodeAt(2) << 8) | digest.charCodeAt(3)) >>> 0;
  const low = (digest.charCodeAt(4) << 12) | (digest.charCodeAt(5) << 4) | (digest.charCodeAt(6) >>> 4);
  return high * 2 ** 20 + low;
}

export function hashToNumber(hex: string): number {
  return parseInt(hex.slice(0, 13), 16);
}
