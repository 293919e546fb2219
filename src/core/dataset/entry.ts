import { isUtf8 } from 'node:buffer';
import type { Adapter, AdapterOptions } from './adapter';
import { byName } from './detect';
import { compileMapping } from './mapping';

/**
 * Turning one entry's bytes into a JS value, with the reasons users need when that fails, and
 * rebuilding an adapter from a description that can cross a thread boundary.
 */

export type ParseResult = { ok: true; value: unknown } | { ok: false; reason: string };

export function parseEntry(bytes: Buffer): ParseResult {
  if (!isUtf8(bytes)) return { ok: false, reason: `invalid UTF-8 at byte offset ${firstInvalidUtf8(bytes)} of the record` };
  const text = bytes.toString('utf8');
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    const message = (e as Error).message;
    const truncated = /end of JSON input|Unterminated string/.test(message);
    return { ok: false, reason: `invalid JSON: ${message}${truncated ? ' (truncated record?)' : ''}` };
  }
}

/**
 * Offset of the first byte that breaks UTF-8 (only on the rare failure path): decoding replaces it
 * with U+FFFD, so the first difference between the bytes and their re-encoding is where it broke.
 */
function firstInvalidUtf8(bytes: Buffer): number {
  const reencoded = Buffer.from(bytes.toString('utf8'), 'utf8');
  let i = 0;
  while (i < bytes.length && bytes[i] === reencoded[i]) i++;
  return i;
}

/** What an adapter is, in a form that can be posted to a worker thread. */
export type AdapterSpec = { kind: 'builtin'; name: string; options: AdapterOptions } | { kind: 'mapping'; file: string; text: string; options: AdapterOptions };

export function adapterFromSpec(spec: AdapterSpec): Adapter {
  if (spec.kind === 'builtin') {
    const adapter = byName(spec.name, spec.options);
    if (adapter === undefined) throw new Error(`unknown adapter "${spec.name}"`);
    return adapter;
  }
  const compiled = compileMapping(spec.text, spec.file);
  if (!compiled.ok) {
    const first = compiled.errors[0];
    throw new Error(`${spec.file}:${first.line}:${first.column}: ${first.message}`);
  }
  return compiled.adapter;
}
