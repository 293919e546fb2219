import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BufferSource, FileSource, readRange } from '../../src/core/dataset/byte-source';
import { buildOffsetIndex, detectFormat, entryAtLine } from '../../src/core/dataset/offsets';

function index(text: string | Buffer, chunkSize?: number) {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  const source = new BufferSource('t', bytes);
  const idx = buildOffsetIndex(source, { chunkSize });
  const entries = Array.from(idx.starts, (s, i) => readRange(source, s, idx.lengths[i]).toString('utf8'));
  return { idx, entries, lines: Array.from(idx.lines) };
}

// Every chunk size from tiny (entries straddle many chunks) to larger than the file must agree.
const CHUNKS = [1, 2, 3, 7, 64, 1 << 20];

void test('JSONL: LF, CRLF, blank lines, last line without newline', () => {
  const text = '{"a":1}\n\n{"b":2}\r\n  \r\n{"c":3}';
  for (const chunk of CHUNKS) {
    const { idx, entries, lines } = index(text, chunk);
    assert.equal(idx.format, 'jsonl');
    assert.deepEqual(
      entries.map((e) => e.trimEnd()),
      ['{"a":1}', '{"b":2}', '{"c":3}'],
      `chunk ${chunk}`,
    );
    assert.deepEqual(lines, [1, 3, 5], `chunk ${chunk}`);
  }
});

void test('JSONL: UTF-8 BOM is skipped and multi-byte text keeps exact offsets', () => {
  const text = '\ufeff{"q":"你好"}\n{"q":"世界"}\n';
  for (const chunk of CHUNKS) {
    const { entries, lines } = index(text, chunk);
    assert.deepEqual(entries, ['{"q":"你好"}', '{"q":"世界"}']);
    assert.deepEqual(lines, [1, 2]);
  }
});

void test('JSONL: empty and whitespace-only files have no entries', () => {
  assert.equal(index('').idx.starts.length, 0);
  assert.equal(index('\n\n  \r\n').idx.starts.length, 0);
  assert.equal(index('\ufeff').idx.starts.length, 0);
});

void test('JSONL: a line far larger than the read buffer', () => {
  const big = `{"x":"${'y'.repeat(100_000)}"}`;
  const { entries, lines } = index(`{"a":1}\n${big}\n{"b":2}\n`, 4096);
  assert.equal(entries.length, 3);
  assert.equal(entries[1], big);
  assert.deepEqual(lines, [1, 2, 3]);
});

void test('JSON array: pretty-printed elements with their first lines', () => {
  const text = '[\n  {\n    "a": "x]}\\"{["\n  },\n  {"b": [1, 2]},\n  3,\n  "s,]"\n]\n';
  for (const chunk of CHUNKS) {
    const { idx, entries, lines } = index(text, chunk);
    assert.equal(idx.format, 'json-array');
    assert.deepEqual(entries, ['{\n    "a": "x]}\\"{["\n  }', '{"b": [1, 2]}', '3', '"s,]"'], `chunk ${chunk}`);
    assert.deepEqual(lines, [2, 5, 6, 7]);
    assert.deepEqual(idx.problems, []);
  }
});

void test('JSON array: a truncated file keeps the complete elements and says where it broke', () => {
  const { idx, entries } = index('[\n {"a": 1},\n {"b": "tru');
  assert.deepEqual(entries, ['{"a": 1}']);
  assert.equal(idx.problems.length, 1);
  assert.equal(idx.problems[0].line, 3);
  assert.match(idx.problems[0].reason, /ends inside this array element/);
});

void test('JSON array: junk between elements is reported with its line', () => {
  const { idx, entries } = index('[{"a":1}\n x {"b":2}]');
  assert.deepEqual(entries, ['{"a":1}']);
  assert.equal(idx.problems[0].line, 2);
  assert.match(idx.problems[0].reason, /expected ',' or '\]'/);
});

void test('detectFormat looks past BOM and whitespace', () => {
  assert.equal(detectFormat(new BufferSource('t', Buffer.from('\ufeff \n[1]'))), 'json-array');
  assert.equal(detectFormat(new BufferSource('t', Buffer.from('{"a":1}\n'))), 'jsonl');
});

void test('entryAtLine finds the entry starting on or spanning a line', () => {
  const lines = new Uint32Array([1, 3, 10]);
  assert.equal(entryAtLine(lines, 0), -1);
  assert.equal(entryAtLine(lines, 1), 0);
  assert.equal(entryAtLine(lines, 4), 1);
  assert.equal(entryAtLine(lines, 99), 2);
});

void test('FileSource reads the same entries as an in-memory buffer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-offsets-'));
  const file = join(dir, 'f.jsonl');
  const text = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ i, t: 'x'.repeat(i % 97) })).join('\n');
  writeFileSync(file, text);
  const source = new FileSource(file);
  try {
    const fromFile = buildOffsetIndex(source, { chunkSize: 4096 });
    const fromMemory = index(text).idx;
    assert.deepEqual(fromFile.starts, fromMemory.starts);
    assert.deepEqual(fromFile.lengths, fromMemory.lengths);
    assert.equal(fromFile.starts.length, 1000);
  } finally {
    source.close();
  }
});
