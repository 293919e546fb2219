import { hash } from 'node:crypto';
import type { MappedRecord } from './adapter';
import type { Turn } from './record';

/**
 * Content hashes. The id covers the conversation and the response texts only, so the same record
 * gets the same id whatever file shape it came from (that is what makes duplicate and train/test
 * overlap checks meaningful across formats).
 */

function contextKey(context: readonly Turn[]): string {
  return JSON.stringify(context.map((t) => [t.role, t.content]));
}

function idFromKeys(context: string, record: MappedRecord): string {
  return hash('sha256', `${context}\u0000${JSON.stringify(record.responses.map((r) => r.text))}`, 'hex').slice(0, 16);
}

export function recordId(record: MappedRecord): string {
  return idFromKeys(contextKey(record.context), record);
}

export function promptKeyHash(context: readonly Turn[]): string {
  return hash('sha256', contextKey(context), 'hex').slice(0, 16);
}

/** Both hashes of a record as exact doubles (first 52 bits): cheap to ship between threads and compare. */
export function recordHashes(record: MappedRecord): { id: number; prompt: number } {
  const context = contextKey(record.context);
  return { id: hashToNumber(idFromKeys(context, record)), prompt: hashToNumber(hash('sha256', context, 'hex')) };
}

export function hashToNumber(hex: string): number {
  return parseInt(hex.slice(0, 13), 16);
}
