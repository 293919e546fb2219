import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { defaultAdapterOptions, isGrouped } from '../../src/core/dataset/adapter';
import type { Adapter, MappedRecord, MapResult } from '../../src/core/dataset/adapter';
import { builtinAdapters } from '../../src/core/dataset/adapters/registry';
import { BufferSource } from '../../src/core/dataset/byte-source';
import { Dataset } from '../../src/core/dataset/dataset';
import { DatasetFileError } from '../../src/core/dataset/dataset-error';
import { builtinAdapterNames } from '../../src/core/dataset/detect';
import { compileMapping } from '../../src/core/dataset/mapping';
import { buildOffsetIndex } from '../../src/core/dataset/offsets';
import { repoRoot } from '../support/repo-root';

/**
 * Property-based tests of the dataset engine: whatever bytes, JSON values or damaged real records it
 * is given, it returns results or the documented DatasetFileError — it never throws anything else,
 * never loops (inputs are bounded), and its counts add up. Run counts are modest so the file takes
 * seconds on a slow two-core CI machine; a failure prints the seed and the shrunk input.
 */

const samples = join(repoRoot(), 'test', 'fixtures', 'samples');

/** A few real records of every sampled shape, plus hand-written ones of the shapes without a sample. */
function seedRecords(): unknown[] {
  const seeds: unknown[] = [];
  for (const file of [
    'demo.test.jsonl',
    'finegrained-qa.sample.jsonl',
    'hh-rlhf-harmless.sample.jsonl',
    'medicalgpt-dpo-zh.sample.jsonl',
    'pandalm.sample.jsonl',
  ]) {
    const lines = readFileSync(join(samples, file), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '');
    seeds.push(...lines.slice(0, 3).map((line) => JSON.parse(line) as unknown));
  }
  seeds.push(...(JSON.parse(readFileSync(join(samples, 'llamafactory-dpo-zh.sample.json'), 'utf8')) as unknown[]).slice(0, 3));
  seeds.push(
    { src: ['hi', 'a joke?'], tgt: ['hello'], response: ['pun', 'no', 'knock knock'], rank: [2, 3, 1], label: 'chitchat' },
    {
      question_uuid: 'Physics_1',
      llm_name: 'x',
      dialog: [
        { role: 'user', content: 'q' },
        { role: 'llm', content: 'a' },
      ],
      stars: { Correctness: 2 },
    },
    { prompt_id: 7, prompt: 'p', response: 'a', score: 3 },
    { prompt: 'p', responses: ['a', { text: 'b', model: 'm' }, 'c'], scores: [0.5, 2, 0.5] },
    { scenario: 'chitchat', prompt: 'Hi', 'response 1': 'Hello', 'response 2': 'Yo', label: 1 },
    { input: 'Say hi', output_1: 'Hi', output_2: 'Bye', label: 2 },
    { question: 'q', chosen: ['a', 'b'], rejected: ['c'] },
    {
      prompt: [{ role: 'user', content: 'q' }],
      chosen: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'a' },
      ],
      rejected: [
        { role: 'user', content: 'q' },
        { role: 'assistant', content: 'b' },
      ],
    },
    {
      id: '0123456789abcdef',
      context: [{ role: 'user', content: 'q' }],
      responses: [{ text: 'a' }, { text: 'b' }],
      preference: { ranking: [2, 1], pairs: [{ a: 0, b: 1, winner: 1 }] },
    },
  );
  return seeds;
}

const seeds = seedRecords();

/** Field names the adapters look for, so random additions hit real code paths rather than metadata. */
const knownFields = [
  'prompt',
  'question',
  'instruction',
  'input',
  'system',
  'conversations',
  'messages',
  'chosen',
  'rejected',
  'response',
  'responses',
  'rank',
  'ranks',
  'ranking',
  'scores',
  'preference',
  'label',
  'winner',
  'annotator1',
  'output_1',
  'output_2',
  'response 1',
  'response 2',
  'src',
  'tgt',
  'question_uuid',
  'stars',
  'score',
  'dialog',
  'id',
  'context',
  'category',
];

const smallJson = fc.jsonValue({ maxDepth: 2, depthSize: 'small' });
const oddNumbers = fc.constantFrom(0, -1, 1.5, 7, -3, 2 ** 53, Number.MAX_VALUE, -0);

type Mutation = { at: number; kind: 'replace' | 'renumber' | 'delete' | 'duplicate' | 'add'; value: unknown; number: number; key: string };

const mutation: fc.Arbitrary<Mutation> = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('replace', 'renumber', 'delete', 'duplicate', 'add'),
  value: fc.oneof(smallJson, oddNumbers, fc.constantFrom('', ' ', 'tie', 'response 2', 'human', 'gpt')),
  number: oddNumbers,
  key: fc.constantFrom(...knownFields),
});

/** Every container in `value` with the key or index of each child, depth first. */
function slots(value: unknown, out: { parent: Record<string, unknown> | unknown[]; key: string | number }[] = []): typeof out {
  if (typeof value !== 'object' || value === null) return out;
  const children: [string | number, unknown][] = Array.isArray(value) ? value.map((child, i) => [i, child]) : Object.entries(value);
  for (const [key, child] of children) {
    out.push({ parent: value as Record<string, unknown> | unknown[], key });
    slots(child, out);
  }
  return out;
}

function mutate(record: unknown, mutations: readonly Mutation[]): unknown {
  const copy = structuredClone(record);
  for (const m of mutations) {
    const all = slots(copy);
    if (all.length === 0) return m.value;
    // Ranks, labels and scores are where numbers matter: 'renumber' changes one of them.
    const numbers = all.filter(({ parent, key }) => typeof (parent as Record<string | number, unknown>)[key] === 'number');
    if (m.kind === 'renumber') {
      if (numbers.length > 0) {
        const { parent, key } = numbers[m.at % numbers.length];
        (parent as Record<string | number, unknown>)[key] = m.number;
      }
      continue;
    }
    const { parent, key } = all[m.at % all.length];
    if (m.kind === 'replace') (parent as Record<string | number, unknown>)[key] = structuredClone(m.value);
    else if (m.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key as string];
    } else if (m.kind === 'duplicate' && Array.isArray(parent)) parent.push(structuredClone(parent[key as number]));
    else if (m.kind === 'add' && !Array.isArray(parent)) parent[m.key] = structuredClone(m.value);
  }
  return copy;
}

const mutatedRecord = fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { maxLength: 4 })).map(([seed, ms]) => mutate(seed, ms));

/** Objects made of the known fields with random values: the shapes adapters half-recognise. */
const fieldSoup = fc.dictionary(fc.constantFrom(...knownFields), fc.oneof(smallJson, oddNumbers), { maxKeys: 6 });

const anyValue = fc.oneof({ weight: 3, arbitrary: mutatedRecord }, { weight: 2, arbitrary: fieldSoup }, { weight: 1, arbitrary: smallJson });

/** The record model's invariants for whatever an adapter returns. */
function checkResult(result: MapResult<unknown>, what: string): void {
  assert.equal(typeof result.ok, 'boolean', what);
  if (!result.ok) {
    assert.ok(typeof result.reason === 'string' && result.reason.length > 0, `${what}: empty reason`);
    return;
  }
  for (const w of result.warnings ?? []) assert.equal(typeof w, 'string', what);
}

function checkRecord(record: MappedRecord, what: string): void {
  assert.ok(Array.isArray(record.context), what);
  for (const turn of record.context) {
    assert.ok(['system', 'user', 'assistant'].includes(turn.role), `${what}: role ${turn.role}`);
    assert.equal(typeof turn.content, 'string', what);
  }
  assert.ok(record.responses.length > 0, `${what}: no responses`);
  for (const r of record.responses) assert.equal(typeof r.text, 'string', what);
  const n = record.responses.length;
  const ranking = record.preference?.ranking;
  if (ranking !== undefined) {
    assert.equal(ranking.length, n, `${what}: ranking length`);
    for (const rank of ranking) assert.ok(Number.isInteger(rank) && rank >= 1 && rank <= n, `${what}: rank ${rank} of ${n}`);
  }
  for (const p of record.preference?.pairs ?? []) {
    assert.ok(p.a >= 0 && p.a < n && p.b >= 0 && p.b < n && p.a !== p.b, `${what}: pair ${p.a}-${p.b}`);
    assert.ok(p.winner === null || p.winner === p.a || p.winner === p.b, `${what}: winner ${p.winner}`);
  }
}

/** Maps `values` with `adapter` as the indexer would; throws only if the adapter throws or breaks an invariant. */
function exercise(adapter: Adapter, values: readonly unknown[]): void {
  const score = adapter.detect(values);
  assert.ok(score >= 0 && score <= 1, `${adapter.name}: detect ${score}`);
  if (!isGrouped(adapter)) {
    for (const value of values) {
      const result = adapter.map(value);
      checkResult(result, adapter.name);
      if (result.ok) checkRecord(result.value, adapter.name);
    }
    return;
  }
  const rows = [];
  for (const value of values) {
    const key = adapter.groupKey(value);
    checkResult(key, `${adapter.name} groupKey`);
    const row = adapter.mapRow(value);
    checkResult(row, `${adapter.name} mapRow`);
    if (row.ok) rows.push(row.value);
  }
  if (rows.length > 0) {
    const merged = adapter.mergeGroup(rows);
    checkResult(merged, `${adapter.name} mergeGroup`);
    if (merged.ok) checkRecord(merged.value, `${adapter.name} mergeGroup`);
  }
}

const adapters = [...builtinAdapters(defaultAdapterOptions), ...builtinAdapters({ rankDirection: 'higher-is-better' })];

void describe('fuzz: adapters', () => {
  void it('map random JSON values, field soups and mutated real records without throwing, keeping the record invariants', () => {
    fc.assert(
      fc.property(fc.array(anyValue, { minLength: 1, maxLength: 6 }), (values) => {
        for (const adapter of adapters) exercise(adapter, values);
      }),
      { numRuns: 300 },
    );
  });
});

const pathText = fc.oneof(
  fc.constantFrom(
    'prompt',
    'question',
    'q',
    'a.b',
    'dialog[-1].content',
    'dialog[:-1]',
    'dialog[1:]',
    'r[0]',
    '["x y"]',
    'responses',
    'chosen',
    'rejected',
    'stars',
    'score',
    '[',
    'a..b',
    '',
    'x[1:]',
    'meta["k"]',
  ),
  fc.string({ maxLength: 8 }),
);
const optional = { requiredKeys: [] as never[] };
const mappingObject = fc.record(
  {
    name: fc.string({ maxLength: 6 }),
    groupBy: pathText,
    system: pathText,
    prompt: fc.oneof(
      pathText,
      fc.array(pathText, { maxLength: 3 }),
      fc.record(
        {
          messages: pathText,
          role: fc.string({ maxLength: 5 }),
          content: fc.string({ maxLength: 5 }),
          roles: fc.dictionary(fc.string({ maxLength: 4 }), fc.constantFrom('user', 'assistant', 'system', 'robot')),
        },
        optional,
      ),
    ),
    responses: fc.oneof(fc.array(pathText, { maxLength: 3 }), fc.record({ path: pathText, text: pathText, model: pathText }, optional)),
    response: fc.oneof(pathText, fc.record({ text: pathText, model: pathText }, optional)),
    ranking: fc.oneof(
      fc.record({ scores: pathText, aggregate: fc.constantFrom('sum', 'mean', 'max') }, optional),
      fc.record({ ranks: pathText, direction: fc.constantFrom('lower-is-better', 'higher-is-better', 'up') }, optional),
      fc.record(
        { label: pathText, values: fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(fc.integer({ min: -1, max: 4 }), fc.constant('tie'))) },
        optional,
      ),
      fc.record({ order: fc.constantFrom('best-first', 'worst-first') }),
    ),
    ratings: fc.oneof(
      fc.record({ path: pathText, source: fc.string({ maxLength: 4 }), aspect: fc.string({ maxLength: 4 }) }, optional),
      fc.array(fc.record({ path: pathText }), { maxLength: 2 }),
    ),
    category: fc.oneof(pathText, fc.record({ path: pathText, values: fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 })) }, optional)),
    metadata: fc.oneof(
      fc.array(pathText, { maxLength: 2 }),
      fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(pathText, fc.record({ path: pathText, match: fc.constantFrom('(', '^(.+)_\\d+$', '.*') }, optional))),
    ),
    extra: smallJson,
  },
  optional,
);

/** Mapping texts: well-formed objects of the mapping keys, some cut short or with a byte changed. */
const mappingText = fc.tuple(mappingObject, fc.nat(), fc.constantFrom('keep', 'cut', 'poke')).map(([object, at, how]) => {
  const text = JSON.stringify(object, null, 1);
  if (how === 'keep') return text;
  const i = at % (text.length + 1);
  return how === 'cut' ? text.slice(0, i) : `${text.slice(0, i)}}${text.slice(i + 1)}`;
});

const recordForMapping = fc.oneof(
  anyValue,
  fc.dictionary(
    fc.constantFrom('prompt', 'question', 'q', 'a', 'dialog', 'r', 'x y', 'responses', 'chosen', 'rejected', 'stars', 'score', 'meta', 'g'),
    fc.oneof(smallJson, fc.array(fc.string({ maxLength: 3 }), { maxLength: 3 })),
    { maxKeys: 6 },
  ),
);

void describe('fuzz: mapping compiler', () => {
  void it('compiles any text to an adapter or to located errors, and the adapters it builds never throw', () => {
    fc.assert(
      fc.property(mappingText, fc.array(recordForMapping, { minLength: 1, maxLength: 4 }), (text, values) => {
        const compiled = compileMapping(text, 'fuzz.mapping.jsonc');
        if (!compiled.ok) {
          assert.ok(compiled.errors.length > 0);
          for (const e of compiled.errors) assert.ok(e.line >= 1 && e.column >= 1 && e.message.length > 0, JSON.stringify(e));
          return;
        }
        exercise(compiled.adapter, values);
      }),
      { numRuns: 300 },
    );
  });
});

/** File contents: random bytes, lines of random JSON, and lines (or an array) of mutated real records, some cut short. */
const fileBytes = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc
    .array(
      fc.oneof(
        anyValue.map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 20 }),
      ),
      { maxLength: 8 },
    )
    .map((lines) => Buffer.from(lines.join('\n'))),
  fc
    .tuple(fc.array(mutatedRecord, { minLength: 1, maxLength: 6 }), fc.constantFrom('jsonl', 'array', 'pretty'), fc.nat(), fc.boolean())
    .map(([records, layout, cut, truncate]) => {
      const text = layout === 'jsonl' ? records.map((r) => JSON.stringify(r)).join('\n') : JSON.stringify(records, null, layout === 'pretty' ? 2 : undefined);
      return Buffer.from(truncate ? text.slice(0, cut % (text.length + 1)) : text);
    }),
);

void describe('fuzz: scanner and index', () => {
  void it('finds the same entries whatever the chunk size, all within the file', () => {
    fc.assert(
      fc.property(fileBytes, fc.integer({ min: 1, max: 64 }), (bytes, chunkSize) => {
        const source = new BufferSource('f', bytes);
        const whole = buildOffsetIndex(source);
        const chunked = buildOffsetIndex(source, { chunkSize });
        assert.deepEqual(chunked, whole);
        for (let i = 0; i < whole.starts.length; i++) {
          assert.ok(whole.starts[i] >= 0 && whole.starts[i] + whole.lengths[i] <= bytes.length);
          if (i > 0) assert.ok(whole.starts[i] >= whole.starts[i - 1] + whole.lengths[i - 1] && whole.lines[i] >= whole.lines[i - 1]);
        }
      }),
      { numRuns: 300 },
    );
  });

  void it('indexes any file or refuses it with a DatasetFileError; usable + malformed == records, an error on a line for each malformed one', async () => {
    const names = [undefined, ...builtinAdapterNames()];
    await fc.assert(
      fc.asyncProperty(fileBytes, fc.constantFrom(...names), async (bytes, adapter) => {
        let dataset: Dataset;
        try {
          dataset = await Dataset.open(new BufferSource('fuzz.jsonl', bytes), { workers: 1, adapter, chunkSize: 97 });
        } catch (e) {
          assert.ok(e instanceof DatasetFileError, `unexpected ${String(e)}`);
          assert.ok(e.reason.length > 0);
          return;
        }
        try {
          const r = dataset.report;
          assert.equal(r.usable + r.malformed, r.records, JSON.stringify({ usable: r.usable, malformed: r.malformed, records: r.records }));
          const lines = 1 + bytes.filter((b) => b === 0x0a).length;
          const errors = r.problems.filter((p) => p.severity === 'error');
          assert.ok(errors.length >= r.malformed, `${errors.length} errors for ${r.malformed} malformed`);
          for (const p of r.problems) assert.ok(p.line >= 1 && p.line <= lines && p.reason.length > 0, JSON.stringify(p));
          for (let i = 0; i < dataset.size; i++) {
            const view = dataset.read(i);
            if (view.record) checkRecord(view.record, `read(${i})`);
            else
              assert.ok(
                view.problems.some((p) => p.severity === 'error'),
                `record ${i} has neither a record nor an error`,
              );
          }
        } finally {
          dataset.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
