import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isGrouped } from '../../src/core/dataset/adapter';
import type { GroupedAdapter, MappedRecord, RecordAdapter } from '../../src/core/dataset/adapter';
import { parseFieldPath, resolvePath } from '../../src/core/dataset/adapters/field-path';
import { compileMapping, formatMappingErrors, loadMappingFile } from '../../src/core/dataset/mapping';
import type { MappingError } from '../../src/core/dataset/mapping';

const repoRoot = path.resolve(__dirname, '../../..');
const examples = path.join(repoRoot, 'docs/examples');
const dataDir = path.resolve(__dirname, '../../../../shared/data');

function errorsOf(text: string): MappingError[] {
  const result = compileMapping(text, 'test.mapping.jsonc');
  if (result.ok) assert.fail('expected the mapping to be rejected');
  return result.errors;
}

function recordAdapter(text: string): RecordAdapter {
  const result = compileMapping(text, 'test.mapping.jsonc');
  if (!result.ok) assert.fail(formatMappingErrors('test.mapping.jsonc', result.errors).join('\n'));
  assert.ok(!isGrouped(result.adapter));
  return result.adapter;
}

function mapped(adapter: RecordAdapter, value: unknown): MappedRecord {
  const result = adapter.map(value);
  if (!result.ok) assert.fail(result.reason);
  return result.value;
}

void describe('field paths', () => {
  const value = { a: { 'b c': [1, 2, 3] }, 'x.y': 'dotted', dialog: [{ content: 'q' }, { content: 'r' }] };
  const at = (text: string): unknown => {
    const parsed = parseFieldPath(text);
    assert.ok(parsed.ok, text);
    const found = resolvePath(value, parsed.path);
    return found.found ? found.value : `missing: ${found.reason}`;
  };

  void it('follows keys, indices (negative from the end), slices and quoted keys', () => {
    assert.deepEqual(at('a.b c'), [1, 2, 3]);
    assert.equal(at('a.b c[0]'), 1);
    assert.equal(at('a["b c"][-1]'), 3);
    assert.equal(at('["x.y"]'), 'dotted');
    assert.equal(at('dialog[-1].content'), 'r');
    assert.deepEqual(at('dialog[:-1]'), [{ content: 'q' }]);
    assert.deepEqual(at('a.b c[1:]'), [2, 3]);
  });

  void it('explains what is missing', () => {
    assert.equal(at('dialog[5].content'), 'missing: "dialog[5]" is out of range (the list has 2 elements)');
    assert.equal(at('a.nope'), 'missing: no field "a.nope"');
    assert.equal(at('x.y'), 'missing: no field "x"');
    assert.equal(at('dialog.content'), 'missing: "dialog" is an array, not an object, so "dialog.content" does not exist');
  });

  void it('rejects malformed paths', () => {
    for (const bad of ['', 'a..b', 'a[', 'a[x]', 'a[:1].b', 'a]b']) assert.equal(parseFieldPath(bad).ok, false, bad);
  });
});

void describe('compileMapping errors', () => {
  void it('reports syntax errors at their line and column', () => {
    assert.deepEqual(errorsOf('{\n  "prompt": "q"\n  "responses": ["a"]\n}'), [{ line: 3, column: 3, message: 'syntax error: "," expected' }]);
  });

  void it('reports unknown keys at the key, with the allowed keys', () => {
    const errors = errorsOf('{\n  "prompt": "q",\n  "responses": ["a"],\n    "rankng": {}\n}');
    assert.equal(errors.length, 1);
    assert.deepEqual([errors[0].line, errors[0].column], [4, 5]);
    assert.match(errors[0].message, /^unknown key "rankng" in the mapping \(expected one of: name, description, groupBy/);
  });

  void it('reports wrong types and invalid paths at the value', () => {
    const text = ['{', '  "prompt": 5,', '  "responses": ["ok", "bad[x]"],', '  "category": { "path": "c", "values": [] },', '}'].join('\n');
    assert.deepEqual(errorsOf(text), [
      { line: 2, column: 13, message: '"prompt" must be an object, not a number' },
      { line: 3, column: 27, message: 'invalid field path in "responses" entry 2: "[x]" is not an index, a slice or a quoted key' },
      { line: 4, column: 40, message: '"category.values" must be an object mapping values to category names, not a list' },
    ]);
  });

  void it('checks the combinations of keys', () => {
    assert.deepEqual(errorsOf('{"groupBy": "q", "prompt": "p", "responses": ["a"]}'), [
      { line: 1, column: 33, message: 'with "groupBy" each row holds one response: use "response", not "responses"' },
      { line: 1, column: 1, message: 'missing required key "response" (the response of each row, with "groupBy")' },
    ]);
    assert.deepEqual(errorsOf('{"responses": ["a"]}'), [{ line: 1, column: 1, message: 'missing required key "prompt"' }]);
    assert.deepEqual(errorsOf('{"prompt": "p", "responses": ["a", "b"],\n "ranking": {"label": "l", "values": {"0": 0}}}'), [
      { line: 2, column: 44, message: 'label "0" must map to a response number (1, 2, …) or "tie", not 0' },
    ]);
    assert.deepEqual(errorsOf('{"prompt": "p", "responses": ["a"], "ranking": {"scores": "s", "direction": "higher-is-better"}}'), [
      { line: 1, column: 64, message: '"direction" belongs with "ranks", not "scores"' },
    ]);
    assert.deepEqual(errorsOf('{"prompt": "p", "responses": ["a"], "ratings": {"path": "s"}}'), [
      { line: 1, column: 37, message: '"ratings" need "groupBy" (paths in each row) or "responses" as {"path": …} (paths in each response element)' },
    ]);
    assert.deepEqual(errorsOf('{"prompt": {"messages": "m", "roles": {"bot": "robot"}}, "responses": ["a"]}'), [
      { line: 1, column: 47, message: 'role "bot" must map to "system", "user" or "assistant", not "robot"' },
    ]);
    const regex = errorsOf('{"prompt": "p", "responses": ["a"], "metadata": {"s": {"path": "id", "match": "("}}}');
    assert.equal(regex.length, 1);
    assert.equal(regex[0].column, 79);
    assert.match(regex[0].message, /^metadata "s" match is not a valid regular expression/);
  });

  void it('formats errors as file:line:column: message; a missing file is an error too', () => {
    assert.deepEqual(formatMappingErrors('m.jsonc', [{ line: 2, column: 5, message: 'oops' }]), ['m.jsonc:2:5: oops']);
    const missing = loadMappingFile(path.join(examples, 'does-not-exist.jsonc'));
    assert.ok(!missing.ok);
    assert.match(missing.errors[0].message, /^cannot read the mapping file/);
  });
});

void describe('mapped adapters', () => {
  void it('maps two responses with a label value map and joins prompt parts', () => {
    const adapter = recordAdapter(`{
      // comments and trailing commas are fine
      "prompt": ["instruction", "input"],
      "responses": ["output_1", "output_2"],
      "ranking": {"label": "gt", "values": {"0": 1, "1": 2, "2": "tie"}},
      "category": {"path": "task", "values": {"qa": "question answering"}},
      "metadata": ["id"],
    }`);
    assert.equal(adapter.name, 'mapping:test');
    const record = mapped(adapter, { instruction: 'Do', input: 'this', output_1: 'a', output_2: 'b', gt: 1, task: 'qa', id: 9 });
    assert.deepEqual(record, {
      context: [{ role: 'user', content: 'Do\n\nthis' }],
      responses: [{ text: 'a' }, { text: 'b' }],
      preference: { ranking: [2, 1] },
      category: 'question answering',
      metadata: { id: 9 },
    });
    assert.deepEqual(mapped(adapter, { instruction: 'Do', output_1: 'a', output_2: 'b', gt: '2', task: 'other' }).preference, { ranking: [1, 1] });
    assert.equal(mapped(adapter, { instruction: 'Do', output_1: 'a', output_2: 'b', gt: 0, task: 'other' }).category, 'other');
    const bad = adapter.map({ instruction: 'Do', output_1: 'a', output_2: 'b', gt: 5 });
    assert.ok(!bad.ok && bad.reason === '"gt" is 5, which is not one of the mapped labels (0, 1, 2)');
    assert.equal(adapter.detect([{ instruction: 'x', output_1: 'a', output_2: 'b' }, { prompt: 'y' }]), 0.5);
  });

  void it('reads ranks with a direction and scores with an aggregate', () => {
    const ranks = recordAdapter('{"prompt": "q", "responses": {"path": "rs"}, "ranking": {"ranks": "r", "direction": "higher-is-better"}}');
    assert.deepEqual(mapped(ranks, { q: 'x', rs: ['a', 'b', 'c'], r: [1, 3, 3] }).preference, { ranking: [2, 1, 1] });
    const short = ranks.map({ q: 'x', rs: ['a', 'b', 'c'], r: [1, 3] });
    assert.ok(!short.ok && short.reason === 'r has 2 entries but there are 3 responses');
    const outside = ranks.map({ q: 'x', rs: ['a', 'b', 'c'], r: [1, 7, -3] });
    assert.ok(!outside.ok && outside.reason.startsWith('r entry 2 is 7: '), JSON.stringify(outside));
    const rows = compileMapping('{"groupBy": "g", "prompt": "q", "response": "a", "ranking": {"ranks": "r"}}', 'rows.mapping.jsonc');
    assert.ok(rows.ok && isGrouped(rows.adapter));
    const negative = rows.adapter.mapRow({ g: 1, q: 'x', a: 'y', r: -3 });
    assert.ok(!negative.ok && negative.reason === '"r" is -3: a rank is a whole number from 1', JSON.stringify(negative));
    assert.ok(rows.adapter.mapRow({ g: 1, q: 'x', a: 'y', r: 2 }).ok);
    const scores = recordAdapter('{"prompt": "q", "responses": {"path": "rs", "text": "t"}, "ranking": {"scores": "s", "aggregate": "mean"}}');
    assert.deepEqual(
      mapped(scores, {
        q: 'x',
        rs: [{ t: 'a' }, { t: 'b' }],
        s: [
          { x: 1, y: 3 },
          { x: 2, y: 2 },
        ],
      }).preference,
      { ranking: [1, 1] },
    );
  });

  void it('reads responses listed best first (pairs named chosen/reject, better/worse, pos/neg)', () => {
    const adapter = recordAdapter('{"prompt": "query", "responses": ["better", "worse"], "ranking": {"order": "best-first"}}');
    assert.deepEqual(mapped(adapter, { query: 'q', better: 'a', worse: 'b' }).preference, { ranking: [1, 2] });
    const list = recordAdapter('{"prompt": "q", "responses": {"path": "ranked"}, "ranking": {"order": "best-first"}}');
    assert.deepEqual(mapped(list, { q: 'x', ranked: ['a', 'b', 'c'] }).preference, { ranking: [1, 2, 3] });
    assert.deepEqual(errorsOf('{"prompt": "p", "responses": ["a"], "ranking": {"order": "worst-first"}}'), [
      { line: 1, column: 58, message: '"ranking.order" must be one of "best-first", not "worst-first"' },
    ]);
    assert.deepEqual(errorsOf('{"groupBy": "g", "prompt": "p", "response": "a", "ranking": {"order": "best-first"}}'), [
      { line: 1, column: 62, message: 'an "order" ranking compares the responses of one record; it cannot be used with "groupBy"' },
    ]);
  });

  void it('maps the custom-shape example as its comment describes', () => {
    const result = loadMappingFile(path.join(examples, 'custom-shape.mapping.jsonc'));
    if (!result.ok) assert.fail(formatMappingErrors('custom-shape', result.errors).join('\n'));
    assert.ok(!isGrouped(result.adapter));
    const record = mapped(result.adapter, {
      meta: { id: 'q-17', domain: 'billing' },
      sys: 'You are a support agent.',
      chat: { turns: [{ speaker: 'customer', text: 'My invoice is wrong.' }] },
      candidates: [
        { reply: 'Sorry! Which line?', by: 'model-a', judge: { helpful: 4 } },
        { reply: 'Invoices are never wrong.', by: 'model-b', judge: { helpful: 1 } },
      ],
      best: 'A',
    });
    assert.deepEqual(record, {
      context: [
        { role: 'system', content: 'You are a support agent.' },
        { role: 'user', content: 'My invoice is wrong.' },
      ],
      responses: [
        { text: 'Sorry! Which line?', model: 'model-a', ratings: [{ aspect: 'helpful', value: 4, source: 'gpt-4' }] },
        { text: 'Invoices are never wrong.', model: 'model-b', ratings: [{ aspect: 'helpful', value: 1, source: 'gpt-4' }] },
      ],
      preference: { ranking: [1, 2] },
      category: 'billing',
      metadata: { id: 'q-17' },
    });
  });
});

function grouped(file: string): GroupedAdapter {
  const result = loadMappingFile(path.join(examples, file));
  if (!result.ok) assert.fail(formatMappingErrors(file, result.errors).join('\n'));
  assert.ok(isGrouped(result.adapter));
  return result.adapter;
}

void describe('llmeval2 example mappings', () => {
  const row = {
    question_uuid: 'Physics_12',
    dialog_uuid: '360_Physics_12',
    llm_name: '360',
    dialog: [
      { role: 'user', content: 'q' },
      { role: 'llm', content: 'a' },
    ],
    hint: 'h',
    type: 'B',
    stars: { Accuracy: 4, Fluency: 3 },
  };

  void it('compile and map a row (human and gpt-4 sources)', () => {
    for (const [file, source] of [
      ['llmeval2.mapping.jsonc', 'human'],
      ['llmeval2-gpt4.mapping.jsonc', 'gpt-4'],
    ] as const) {
      const adapter = grouped(file);
      const key = adapter.groupKey(row);
      assert.ok(key.ok && key.value === 'Physics_12');
      const mappedRow = adapter.mapRow(row);
      assert.ok(mappedRow.ok, file);
      assert.equal(mappedRow.value.score, 7);
      assert.deepEqual(mappedRow.value.record.responses, [
        {
          text: 'a',
          model: '360',
          ratings: [
            { aspect: 'Accuracy', value: 4, source },
            { aspect: 'Fluency', value: 3, source },
          ],
        },
      ]);
      assert.equal(mappedRow.value.record.category, 'subjective knowledge QA');
      assert.deepEqual(mappedRow.value.record.metadata, { subject: 'Physics', question_uuid: 'Physics_12', dialog_uuid: '360_Physics_12', hint: 'h' });
      const bad = adapter.mapRow({ ...row, dialog: [row.dialog[0], { role: 'llm', content: true }] });
      assert.ok(!bad.ok && bad.reason === '"dialog[-1].content" is a boolean, not a string');
    }
  });

  void it('groups every llmeval2 file in shared/data into questions of 20 responses', (t) => {
    if (!existsSync(dataDir)) {
      t.skip(`${dataDir} is absent`);
      return;
    }
    for (const [folder, mappingFile, source] of [
      ['human-score', 'llmeval2.mapping.jsonc', 'human'],
      ['gpt-score', 'llmeval2-gpt4.mapping.jsonc', 'gpt-4'],
    ] as const) {
      const adapter = grouped(mappingFile);
      const files = readdirSync(path.join(dataDir, 'llmeval2-zh', folder));
      assert.equal(files.length, 8);
      for (const file of files) {
        const rows = JSON.parse(readFileSync(path.join(dataDir, 'llmeval2-zh', folder, file), 'utf8')) as unknown[];
        assert.equal(adapter.detect(rows), 1, file);
        const groups = new Map<string, unknown[]>();
        for (const value of rows) {
          const key = adapter.groupKey(value);
          assert.ok(key.ok);
          groups.set(key.value, [...(groups.get(key.value) ?? []), value]);
        }
        assert.equal(groups.size, 40, file);
        let rejected = 0;
        for (const [question, members] of groups) {
          assert.equal(members.length, 20, `${file} ${question}`);
          const mappedRows = members.map((value) => adapter.mapRow(value));
          rejected += mappedRows.filter((r) => !r.ok).length;
          const merged = adapter.mergeGroup(mappedRows.flatMap((r) => (r.ok ? [r.value] : [])));
          assert.ok(merged.ok);
          const record = merged.value;
          assert.equal(record.responses.length, mappedRows.filter((r) => r.ok).length);
          assert.equal(record.preference?.ranking?.length, record.responses.length);
          assert.ok(record.responses.every((r) => r.ratings?.every((rating) => rating.source === source)));
          assert.ok(['objective knowledge QA', 'subjective knowledge QA'].includes(record.category ?? ''));
          assert.equal(record.metadata?.subject, file.replace(/_data\.json$/, ''));
          // The best-ranked responses have the highest star total of the question.
          const totals = record.responses.map((r) => (r.ratings ?? []).reduce((sum, rating) => sum + rating.value, 0));
          const best = Math.max(...totals);
          assert.deepEqual(
            record.preference?.ranking?.map((rank) => rank === 1),
            totals.map((total) => total === best),
          );
        }
        // Six Foreign_Languages answers are `true` instead of text, in both folders.
        assert.equal(rejected, file === 'Foreign_Languages_data.json' ? 6 : 0, file);
      }
    }
  });
});
