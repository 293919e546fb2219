import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { BufferSource } from '../../src/core/dataset/byte-source';
import { writeCanonical } from '../../src/core/dataset/canonical-writer';
import { DatasetFileError } from '../../src/core/dataset/dataset-error';
import type { IndexOptions } from '../../src/core/dataset/dataset';
import { Dataset } from '../../src/core/dataset/dataset';
import { promptOverlap } from '../../src/core/dataset/overlap';

const tmp = mkdtempSync(join(tmpdir(), 'rl-dataset-'));
let fileNo = 0;

function tempFile(content: string | Buffer, ext = 'jsonl'): string {
  const file = join(tmp, `f${fileNo++}.${ext}`);
  writeFileSync(file, content);
  return file;
}

function pair(prompt: string, chosen: string, rejected: string): string {
  return JSON.stringify({ prompt, chosen, rejected });
}

async function open(content: string | Buffer, options: IndexOptions = {}): Promise<Dataset> {
  return Dataset.open(tempFile(content), { workers: 1, ...options });
}

void test('a clean chosen/rejected file: counts, pairs and random access', async () => {
  const lines = [pair('hi', 'hello!', 'go away'), pair('2+2?', '4', '5'), pair('hi', 'hey', 'no')];
  const d = await open(lines.join('\n') + '\n');
  assert.equal(d.report.adapter, 'chosen-rejected');
  assert.equal(d.report.records, 3);
  assert.equal(d.report.malformed, 0);
  assert.equal(d.report.preferencePairs, 3);
  assert.equal(d.report.duplicatePrompts, 1);
  assert.deepEqual(d.report.responsesPerRecord, { min: 2, max: 2, mean: 2 });
  const second = d.read(1);
  assert.equal(second.line, 2);
  assert.equal(second.record?.context.at(-1)?.content, '2+2?');
  assert.deepEqual(
    second.record?.responses.map((r) => r.text),
    ['4', '5'],
  );
  assert.deepEqual(second.record?.preference?.ranking, [1, 2]);
  assert.match(second.record?.id ?? '', /^[0-9a-f]{16}$/);
  d.close();
});

void test('malformed records are reported with their line and reason; the rest is indexed', async () => {
  const content = [
    pair('a', 'b', 'c'), // 1
    '{"prompt": "trunc', // 2: truncated JSON
    '', // 3: blank
    JSON.stringify({ conversations: [{ from: 'human', value: true }], chosen: 'x', rejected: 'y' }), // 4: non-string content
    pair('q', '', 'y'), // 5: empty response
    JSON.stringify({ prompt: 'q', chosen: 'a' }), // 6: missing field
    pair('last', 'ok', 'no'), // 7, no trailing newline
  ].join('\r\n');
  const d = await open(content);
  assert.equal(d.report.records, 6);
  assert.equal(d.report.usable, 3, JSON.stringify(d.report.problems));
  assert.equal(d.report.malformed, 3);
  const reasons = (severity: string) => new Map(d.report.problems.filter((p) => p.severity === severity).map((p) => [p.line, p.reason]));
  const errors = reasons('error');
  assert.deepEqual([...errors.keys()], [2, 4, 6]);
  assert.match(errors.get(2)!, /invalid JSON.*truncated/);
  assert.match(errors.get(4)!, /boolean|string/);
  assert.match(errors.get(6)!, /rejected/);
  // An empty response is kept (it can be the preferred, harmless answer) but flagged.
  assert.match(reasons('warning').get(5)!, /response 1 .*is empty/);
  assert.equal(d.read(5).line, 7);
  assert.equal(d.read(5).record?.responses[0].text, 'ok');
  assert.equal(d.read(1).record, undefined);
  assert.match(d.read(1).problems[0].reason, /invalid JSON/);
  d.close();
});

void test('invalid UTF-8 is reported, not decoded into replacement characters', async () => {
  const bad = Buffer.concat([Buffer.from('{"prompt": "caf'), Buffer.from([0xc3, 0x28]), Buffer.from('", "chosen": "a", "rejected": "b"}\n')]);
  const d = await open(Buffer.concat([Buffer.from(pair('x', 'y', 'z') + '\n'), bad, Buffer.from(pair('p', 'q', 'r') + '\n')]));
  assert.equal(d.report.usable, 2);
  assert.equal(d.report.problems[0].line, 2);
  assert.match(d.report.problems[0].reason, /invalid UTF-8 at byte offset 15 of the record/);
  d.close();
});

void test('a UTF-8 BOM and CRLF line ends', async () => {
  const d = await open('\ufeff' + [pair('一', '二', '三'), pair('四', '五', '六')].join('\r\n') + '\r\n');
  assert.equal(d.report.records, 2);
  assert.equal(d.report.malformed, 0);
  assert.equal(d.read(0).record?.context[0].content, '一');
  d.close();
});

void test('a 100 MB single line between normal records', async () => {
  const huge = pair('long', 'x'.repeat(100 * 1024 * 1024), 'short');
  const d = await open([pair('a', 'b', 'c'), huge, '{"prompt": "' + 'y'.repeat(100 * 1024 * 1024), pair('d', 'e', 'f')].join('\n'));
  assert.equal(d.report.usable, 3);
  assert.equal(d.report.malformed, 1);
  assert.equal(d.report.problems[0].line, 3);
  assert.equal(d.read(1).record?.responses[0].text.length, 100 * 1024 * 1024);
  d.close();
});

void test('a file of 200,000 copies of one record indexes (more duplicates than a call may take arguments)', async () => {
  const d = await open((pair('q?', 'yes', 'no') + '\n').repeat(200_000));
  assert.equal(d.report.records, 200_000);
  assert.equal(d.report.duplicateRecords, 199_999);
  assert.equal(d.report.problemCount, 199_999);
  assert.equal(d.report.problems[0].line, 2);
  d.close();
});

void test('duplicate records are flagged as warnings pointing at the first copy', async () => {
  const d = await open([pair('a', 'b', 'c'), pair('x', 'y', 'z'), pair('a', 'b', 'c')].join('\n'));
  assert.equal(d.report.records, 3);
  assert.equal(d.report.duplicateRecords, 1);
  assert.deepEqual(d.report.problems, [{ line: 3, reason: 'duplicate of the record on line 1 (same conversation and responses)', severity: 'warning' }]);
  d.close();
});

void test('PII flags: e-mail, phone and a checksum-valid ID card number', async () => {
  const d = await open(
    [
      pair('mail me at jane.doe@example.com', 'ok', 'no'),
      pair('call 13812345678', 'ok', 'no'),
      pair('身份证 11010519491231002X', 'ok', 'no'),
      pair('not an id 110105194912310021', 'ok', 'no'),
      pair('nothing here', 'ok', 'no'),
    ].join('\n'),
  );
  assert.deepEqual(d.report.pii, { email: 1, phone: 1, idCard: 1 });
  assert.deepEqual(
    d.report.piiLines.map((p) => p.line),
    [1, 2, 3],
  );
  d.close();
});

void test('parallel workers give exactly the single-thread result', async () => {
  const lines: string[] = [];
  for (let i = 0; i < 60_000; i++) lines.push(i % 997 === 5 ? '{"broken' : pair(`q${i % 5000}`, `good answer ${i} ${'z'.repeat(i % 300)}`, `bad ${i}`));
  // Copies of the first records at the end: duplicates whose first occurrence is in another range.
  lines.push(...lines.slice(0, 100));
  const file = tempFile(lines.join('\n') + '\n');
  const one = await Dataset.open(file, { workers: 1 });
  const two = await Dataset.open(file, { workers: 2, parallelMinBytes: 0 });
  const three = await Dataset.open(file, { workers: 3, parallelMinBytes: 0 });
  const memory = await Dataset.open(new BufferSource('unsaved.jsonl', Buffer.from(lines.join('\n') + '\n')), { workers: 2, parallelMinBytes: 0 });
  for (const d of [two, three, memory]) {
    assert.deepEqual({ ...d.report, file: '' }, { ...one.report, file: '' });
    assert.deepEqual(d.offsets.starts, one.offsets.starts);
    assert.deepEqual(d.offsets.lines, one.offsets.lines);
  }
  assert.equal(one.report.malformed, 62);
  assert.equal(one.report.duplicatePrompts, 60_000 - 61 - 5000 + 99);
  assert.equal(one.report.duplicateRecords, 99);
  assert.equal(two.report.problems.find((p) => p.severity === 'warning')?.reason, 'duplicate of the record on line 1 (same conversation and responses)');
  for (const d of [one, two, three, memory]) d.close();
});

void test('cancellation stops indexing with the abort reason', async () => {
  const file = tempFile(Array.from({ length: 200_000 }, (_, i) => pair(`q${i}`, 'a'.repeat(100), 'b')).join('\n'));
  const controller = new AbortController();
  const opening = Dataset.open(file, { workers: 2, parallelMinBytes: 0, signal: controller.signal });
  controller.abort(new Error('stop'));
  await assert.rejects(opening, /stop/);
});

void test('an in-memory buffer (unsaved editor text) indexes like a file', async () => {
  const d = await Dataset.open(new BufferSource('untitled.jsonl', Buffer.from(pair('a', 'b', 'c'))));
  assert.equal(d.report.records, 1);
  assert.equal(d.recordAtLine(1), 0);
  assert.equal(d.recordAtLine(2), -1);
  d.close();
});

void test('files that are not lists of records are refused with what they are (DatasetFileError), not indexed as 0 records', async () => {
  const refused = async (content: string | Buffer, reason: RegExp, ext = 'jsonl'): Promise<void> => {
    const file = tempFile(content, ext);
    await assert.rejects(Dataset.open(file, { workers: 1 }), (e: unknown) => {
      assert.ok(e instanceof DatasetFileError, String(e));
      assert.match(e.message, new RegExp(`^${basename(file)}: `));
      assert.match(e.reason, reason);
      return true;
    });
  };
  await refused('', /^empty file, no records$/);
  await refused('\n \r\n\t\n', /^empty file, no records$/);
  await refused('[]', /^an empty JSON array, no records$/, 'json');
  await refused('[\n  {"prompt": "a", "chosen": "b"', /^a JSON array without one complete record: line 2: the file ends inside/, 'json');
  await refused('Once upon a time\nthere were records.\n', /^not JSON: line 1 starts with "Once upon a time"$/);
  await refused('\n\n# notes\n', /^not JSON: line 3 starts with "# notes"$/);
  await refused(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe]), /^not UTF-8 text: line 1 has the byte 0x89/);
  await refused(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(pair('a', 'b', 'c'), 'utf16le')]), /^UTF-16 \(BOM\) — convert it to UTF-8/);
  await refused(Buffer.from(pair('a', 'b', 'c'), 'utf16le'), /NUL bytes: a binary file, or UTF-16 without a byte-order mark/);
  const pretty = JSON.stringify(
    {
      version: 2,
      data: [
        { prompt: 'a', chosen: 'b', rejected: 'c' },
        { prompt: 'd', chosen: 'e', rejected: 'f' },
      ],
    },
    null,
    2,
  );
  await refused(pretty, /^a JSON object whose array of records is at `data` — extract it \(e\.g\. jq -c '\.data\[\]' FILE > OUT\.jsonl\)$/, 'json');
  await refused(JSON.stringify({ meta: {}, splits: { train: [{ q: 1 }, { q: 2 }] } }), /array of records is at `splits\.train`/);
  await refused(JSON.stringify({ a: 1, b: 'x' }, null, 2), /^one JSON object, not a list of records/);
  await refused(pretty.slice(0, -30), /^line 1 opens a JSON value that the file never closes \(truncated\?\)/, 'json');
  const prettyLines = [pair('a', 'b', 'c'), pair('d', 'e', 'f')].map((l) => JSON.stringify(JSON.parse(l), null, 2)).join('\n');
  await refused(prettyLines, /^multi-line JSON values \(pretty-printed JSONL\) — one record per line is needed/);
});

void test('a truncated JSON array counts its broken tail as a record: usable + malformed == records', async () => {
  const elements = [pair('a', 'b', 'c'), pair('d', 'e', 'f')];
  const d = await open(`[\n${elements.join(',\n')},\n{"prompt": "g", "cho`);
  assert.equal(d.report.usable, 2);
  assert.equal(d.report.malformed, 1);
  assert.equal(d.report.records, 3);
  assert.match(d.report.problems[0].reason, /ends inside this array element/);
  d.close();
});

void test('pointwise rows: a failing row is a problem of its line, its group stays one usable record; unkeyed rows are records of their own', async () => {
  const row = (q: string, r: unknown, score: number): string => JSON.stringify({ question_uuid: q, prompt: 'p' + q, response: r, score });
  const d = await open([row('1', 'a', 1), row('1', true, 2), row('2', 'c', 1), row('2', 'd', 3), '{"question_uuid": ', row('3', false, 1)].join('\n'));
  assert.equal(d.report.adapter, 'pointwise-grouped');
  assert.equal(d.report.records, 4); // groups 1, 2, 3 and the unparsable row 5
  assert.equal(d.report.usable, 2);
  assert.equal(d.report.malformed, 2); // row 5, and group 3 whose only row fails
  assert.deepEqual(
    d.report.problems.filter((p) => p.severity === 'error').map((p) => p.line),
    [2, 5, 6, 6],
  );
  d.close();
});

void test('unrecognised records fail with a readable reason naming the fields', async () => {
  await assert.rejects(open(JSON.stringify({ idx: 1, gpt_result: '1' })), /gpt_result/);
});

void test('DMoERM: ranks that do not match the responses are reported', async () => {
  const ok = JSON.stringify({ src: ['q'], tgt: [], response: ['a', 'b'], rank: [1, 2] });
  const d = await open([ok, JSON.stringify({ src: ['q2'], tgt: [], response: ['a', 'b', 'c'], rank: [1, 2] })].join('\n'));
  assert.equal(d.report.adapter, 'dmoerm');
  assert.equal(d.report.malformed, 1);
  assert.equal(d.report.problems[0].line, 2);
  assert.match(d.report.problems[0].reason, /rank has 2 entries but there are 3 responses/);
  d.close();
});

void test('DMoERM ranks: lower is better by default, configurable', async () => {
  const line = JSON.stringify({ src: ['q'], tgt: [], response: ['a', 'b', 'c'], rank: [3, 1, 2], label: 'roleplay' });
  const low = await open(line);
  assert.deepEqual(low.read(0).record?.preference?.ranking, [3, 1, 2]);
  assert.deepEqual(low.report.categories, { roleplay: { count: 1, avgTurns: 1 } });
  low.close();
  const high = await open(line, { adapterOptions: { rankDirection: 'higher-is-better' } });
  assert.deepEqual(high.read(0).record?.preference?.ranking, [1, 3, 2]);
  high.close();
});

void test('convert writes canonical JSONL that indexes back to the same records', async () => {
  const d = await open([pair('a', 'b', 'c'), '{"oops', pair('x', 'y', 'z')].join('\n'));
  const out = join(tmp, 'canonical.jsonl');
  assert.deepEqual(writeCanonical(d, out), { written: 2, skipped: 1 });
  const back = await Dataset.open(out, { workers: 1 });
  assert.equal(back.report.adapter, 'canonical');
  assert.equal(back.report.usable, 2);
  assert.deepEqual(back.read(1).record, d.read(2).record);
  d.close();
  back.close();
});

void test('prompt overlap between train and test files', async () => {
  const train = await open([pair('a', '1', '2'), pair('b', '1', '2')].join('\n'));
  const test_ = await open([pair('b', 'x', 'y'), pair('c', 'x', 'y')].join('\n'));
  const r = promptOverlap(train, test_);
  assert.equal(r.overlapping, 1);
  assert.deepEqual(r.examples, [{ testLine: 1, trainLine: 2 }]);
  train.close();
  test_.close();
});
