import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dataset } from '../../../src/core/dataset/dataset';
import type { PreferenceRecord, Turn } from '../../../src/core/dataset/record';
import { TextTokenizer } from '../../../src/core/model/tokenizer';
import { VocabMap } from '../../../src/core/model/vocab';
import type { Sequence } from '../../../src/core/training/batching';
import { bucketByLength, makeBatch, paddingWaste } from '../../../src/core/training/batching';
import type { EncodedRecord } from '../../../src/core/training/features';
import { loadPreferenceData } from '../../../src/core/training/data';
import { contextText, encodeRecord, routerText } from '../../../src/core/training/features';

const SAMPLES = join('test', 'fixtures', 'samples');
const bert = TextTokenizer.default();
const { cls, sep, pad, unk } = bert.special;

function record(context: Turn[], responses: string[], category?: string): PreferenceRecord {
  return { id: 'r', context, responses: responses.map((text) => ({ text })), ...(category ? { category } : {}) };
}

/** mulberry32: a small seeded generator, so the tests do not depend on Math.random. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const multiTurn = record(
  [
    { role: 'system', content: 'You are a kind assistant.' },
    { role: 'user', content: '你好，我是小明' },
    { role: 'assistant', content: 'Hello Xiaoming, nice to meet you!' },
    { role: 'user', content: '陪我聊聊天吧' },
  ],
  ['好呀，今天过得怎么样？', 'Sure.', ''],
  'roleplay',
);

void describe('texts', () => {
  void test('a single user turn is its content alone', () => {
    assert.equal(contextText(record([{ role: 'user', content: 'What is 2+2?' }], ['4'])), 'What is 2+2?');
  });

  void test('a multi-turn context is one role-prefixed line per turn, the final user turn last', () => {
    assert.equal(
      contextText(multiTurn),
      'System: You are a kind assistant.\nUser: 你好，我是小明\nAssistant: Hello Xiaoming, nice to meet you!\nUser: 陪我聊聊天吧',
    );
  });

  void test('the router reads the user turns only, the most recent last', () => {
    assert.equal(routerText(multiTurn), '你好，我是小明\n陪我聊聊天吧');
    const noUser = record([{ role: 'system', content: 'Be brief.' }], ['ok']);
    assert.equal(routerText(noUser), contextText(noUser));
  });
});

void describe('encodeRecord', () => {
  const limits = { maxLen: 128, routerMaxLen: 64 };

  void test('one pair per response, in order, and the router sequence; category and id carried', () => {
    const enc = encodeRecord(multiTurn, 7, bert, limits);
    assert.equal(enc.index, 7);
    assert.equal(enc.id, 'r');
    assert.equal(enc.category, 'roleplay');
    assert.equal(enc.responses.length, 3);
    multiTurn.responses.forEach((r, i) => {
      const expected = bert.encodePair(contextText(multiTurn), r.text, limits.maxLen);
      assert.deepEqual(enc.responses[i], expected, `response ${i}`);
    });
    assert.deepEqual(Array.from(enc.router), [cls, ...bert.tokenize('你好，我是小明\n陪我聊聊天吧'), sep]);
    assert.equal(encodeRecord(record([{ role: 'user', content: 'x' }], ['y']), 0, bert, limits).category, undefined);
  });

  void test('the router never sees the assistant or system turns; the reward model does', () => {
    const enc = encodeRecord(multiTurn, 0, bert, limits);
    const xiaoming = bert.tokenize('xiaoming');
    const kind = bert.tokenize('kind');
    assert.ok(xiaoming.length > 0 && kind.length > 0);
    const router = Array.from(enc.router);
    const pair = Array.from(enc.responses[0].ids);
    for (const id of [...xiaoming, ...kind]) {
      assert.ok(!router.includes(id), `router holds ${bert.tokens([id])[0]}`);
      assert.ok(pair.includes(id), `pair lacks ${bert.tokens([id])[0]}`);
    }
  });

  void test('an empty response is [CLS] context [SEP] [SEP], the last [SEP] of type 1', () => {
    const enc = encodeRecord(multiTurn, 0, bert, limits).responses[2];
    const ctx = bert.tokenize(contextText(multiTurn));
    assert.deepEqual(Array.from(enc.ids), [cls, ...ctx, sep, sep]);
    assert.deepEqual(Array.from(enc.typeIds), [...new Array<number>(ctx.length + 2).fill(0), 1]);
  });

  void test('a long conversation keeps its latest turns: the final user turn sits right before the first [SEP]', () => {
    const turns: Turn[] = [];
    for (let i = 0; i < 30; i++) {
      turns.push({ role: 'user', content: `Question number ${i}: what about topic ${i}?` });
      turns.push({ role: 'assistant', content: `这是第${i}个回答，内容比较长，用来填满上下文。` });
    }
    turns.push({ role: 'user', content: '最后一个问题：总结一下。' });
    const long = record(turns, ['总结如下：'.repeat(100)]);
    const enc = encodeRecord(long, 0, bert, { maxLen: 96, routerMaxLen: 24 });
    const ids = Array.from(enc.responses[0].ids);
    assert.equal(ids.length, 96);
    const firstSep = ids.indexOf(sep);
    const last = bert.tokenize('User: 最后一个问题：总结一下。');
    assert.deepEqual(ids.slice(firstSep - last.length, firstSep), last);
    assert.equal(96 - firstSep - 2, 48, 'the response gets half of maxLen');
    assert.deepEqual(ids.slice(firstSep + 1, -1), bert.tokenize('总结如下：'.repeat(100)).slice(0, 48));
    const router = Array.from(enc.router);
    assert.equal(router.length, 24);
    assert.deepEqual(router.slice(-1 - bert.tokenize('最后一个问题：总结一下。').length, -1), bert.tokenize('最后一个问题：总结一下。'));
  });

  void test('limits too small for the specials are refused with the reason', () => {
    assert.throws(() => encodeRecord(multiTurn, 0, bert, { maxLen: 3, routerMaxLen: 16 }), /maxLen must be an integer of at least 4/);
    assert.throws(() => encodeRecord(multiTurn, 0, bert, { maxLen: 16, routerMaxLen: 2.5 }), /routerMaxLen must be an integer of at least 3/);
  });
});

async function encodeSamples(limits: { maxLen: number; routerMaxLen: number }): Promise<Array<{ dataset: Dataset; encoded: EncodedRecord[] }>> {
  const files = readdirSync(SAMPLES).filter((f) => /\.jsonl?$/.test(f));
  const out: Array<{ dataset: Dataset; encoded: EncodedRecord[] }> = [];
  for (const f of files) {
    const dataset = await Dataset.open(join(SAMPLES, f), { workers: 1 });
    out.push({ dataset, encoded: (await loadPreferenceData(join(SAMPLES, f), bert, limits)).records });
  }
  return out;
}

void describe('loadPreferenceData encodes', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rl-features-'));

  void test('every sample dataset (zh and en) encodes as the whole texts would, whatever the limits', async () => {
    for (const limits of [
      { maxLen: 512, routerMaxLen: 128 },
      { maxLen: 40, routerMaxLen: 300 },
    ]) {
      let records = 0;
      for (const { dataset, encoded } of await encodeSamples(limits)) {
        try {
          assert.equal(encoded.length, dataset.report.usable, dataset.file);
          for (const enc of encoded) {
            const r = dataset.read(enc.index).record!;
            assert.equal(enc.id, r.id);
            assert.deepEqual(
              Array.from(enc.router),
              Array.from(bert.encodeSingle(routerText(r), limits.routerMaxLen).ids),
              `${dataset.file} record ${enc.index} router`,
            );
            r.responses.forEach((resp, k) => {
              assert.deepEqual(
                enc.responses[k],
                bert.encodePair(contextText(r), resp.text, limits.maxLen),
                `${dataset.file} record ${enc.index} response ${k}`,
              );
            });
            records++;
          }
        } finally {
          dataset.close();
        }
      }
      assert.ok(records > 500, `${records} records`);
    }
  });

  void test('malformed records are skipped, the rest keep their record numbers; progress and cancel', async () => {
    const lines = [
      { prompt: '你好', chosen: '你好！', rejected: '嗯' },
      { prompt: 'broken', chosen: 'x' },
      { prompt: 'What is 2+2?', chosen: '4', rejected: '5' },
    ].map((o) => JSON.stringify(o));
    lines.splice(1, 0, '{"prompt": "not json"');
    const file = join(tmp, 'mixed.jsonl');
    writeFileSync(file, lines.join('\n') + '\n');
    const dataset = await Dataset.open(file, { workers: 1 });
    try {
      assert.ok(dataset.report.malformed >= 1, 'the dataset reports the malformed lines');
      const limits = { maxLen: 32, routerMaxLen: 16 };
      const progress: Array<[number, number]> = [];
      const all = (await loadPreferenceData(file, bert, limits, { onProgress: (d, t) => progress.push([d, t]) })).records;
      const usable = Array.from({ length: dataset.size }, (_, i) => i).filter((i) => dataset.read(i).record !== undefined);
      assert.deepEqual(
        all.map((e) => e.index),
        usable,
      );
      assert.ok(!usable.includes(1), 'the line that is not JSON is skipped');
      assert.deepEqual(progress.at(-1), [dataset.size, dataset.size]);
      const stop = new AbortController();
      stop.abort(new Error('stopped by the test'));
      await assert.rejects(loadPreferenceData(file, bert, limits, { signal: stop.signal }), /stopped by the test/);
    } finally {
      dataset.close();
    }
  });
});

void describe('VocabMap', () => {
  const used = [...bert.tokenize('你好，世界 Hello world'), ...bert.tokenize('Reward models')];
  const map = VocabMap.build(bert, used);

  void test('keeps the used ids and the specials, ascending, with nothing else', () => {
    const expected = [...new Set([...used, cls, sep, pad, unk])].sort((a, b) => a - b);
    assert.deepEqual(Array.from(map.keep), expected);
    assert.equal(map.size, expected.length);
  });

  void test('compact ids map back to the original ids; unknown ids become [UNK]', () => {
    const original = Int32Array.from([cls, ...used, sep]);
    const compact = map.toCompact(original);
    assert.ok(compact.every((c) => c >= 0 && c < map.size));
    assert.deepEqual(
      Array.from(compact, (c) => map.keep[c]),
      Array.from(original),
    );
    const unseen = bert.tokenize('完全没见过');
    assert.ok(unseen.every((id) => !used.includes(id)));
    const out = map.toCompact(Int32Array.from([...unseen, 999_999, -1]));
    assert.ok(out.every((c) => map.keep[c] === unk));
  });

  void test('JSON round trip gives the same map; malformed lists are refused with the reason', () => {
    const back = VocabMap.fromJSON(JSON.parse(JSON.stringify(map)) as { keep: number[] });
    assert.deepEqual(back.keep, map.keep);
    const probe = Int32Array.from([...used, 5000, 6000]);
    assert.deepEqual(back.toCompact(probe), map.toCompact(probe));
    assert.throws(() => VocabMap.fromJSON({ keep: [3, 2] }), /strictly ascending \(keep\[1\] = 2 after 3\)/);
    assert.throws(() => VocabMap.fromJSON({ keep: [0, 1.5] }), /keep\[1\] is 1\.5, not a token id/);
    assert.throws(() => VocabMap.fromJSON({ keep: [0, 1], unk: 7 }), /the \[UNK\] id 7 is not among the kept ids/);
    assert.throws(() => VocabMap.build(bert, [21128]), /token id 21128 is not in the vocabulary of .*tokenizer\.json \(0\.\.21127\)/);
  });

  void test('a list without [UNK] maps known ids and refuses unknown ones rather than guess', () => {
    const bare = VocabMap.fromJSON({ keep: [0, 101, 102, 872] });
    assert.deepEqual(Array.from(bare.toCompact(Int32Array.from([101, 872, 102, 0]))), [1, 3, 2, 0]);
    assert.throws(() => bare.toCompact(Int32Array.of(1962)), /token id 1962 is not in the compact vocabulary/);
  });
});

void describe('batching', () => {
  const seq = (ids: number[], typeIds?: number[]): Sequence => ({ ids: Int32Array.from(ids), typeIds: Int32Array.from(typeIds ?? ids.map(() => 0)) });

  void test('makeBatch pads to the longest sequence of the batch, mask 1 on real tokens', () => {
    const b = makeBatch([seq([101, 5, 102, 6, 102], [0, 0, 0, 1, 1]), seq([101, 102]), seq([101, 7, 8, 102, 9, 10, 102], [0, 0, 0, 0, 1, 1, 1])], 0);
    assert.equal(b.batch, 3);
    assert.equal(b.seqLen, 7);
    assert.deepEqual(Array.from(b.ids), [101, 5, 102, 6, 102, 0, 0, 101, 102, 0, 0, 0, 0, 0, 101, 7, 8, 102, 9, 10, 102]);
    assert.deepEqual(Array.from(b.typeIds), [0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1]);
    assert.deepEqual(Array.from(b.mask), [1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
    assert.equal(paddingWaste([b]), 7 / 21);
  });

  void test('with a vocab map the ids are compact and padding holds the given compact pad id', () => {
    const map = VocabMap.build(bert, [872, 1962]);
    const compactPad = map.toCompact(Int32Array.of(pad))[0];
    const b = makeBatch([seq([cls, 872, 1962, sep]), seq([cls, 4518, sep])], compactPad, map);
    assert.deepEqual(
      Array.from(b.ids, (c) => map.keep[c]),
      [cls, 872, 1962, sep, cls, unk, sep, pad],
    );
    assert.deepEqual(Array.from(b.mask), [1, 1, 1, 1, 1, 1, 1, 0]);
  });

  void test('makeBatch refuses an empty batch and mismatched token types', () => {
    assert.throws(() => makeBatch([], 0), /no sequences/);
    assert.throws(() => makeBatch([{ ids: Int32Array.of(1, 2), typeIds: Int32Array.of(0) }], 0), /2 ids but 1 token types/);
  });

  const lengths = Array.from({ length: 1003 }, (_, i) => 3 + ((i * 7919) % 500));

  void test('bucketByLength puts every item in exactly one batch of batchSize (one smaller at most)', () => {
    const items = lengths.map((_, i) => i);
    const batches = bucketByLength(items, (i) => lengths[i], 16, seeded(1));
    assert.deepEqual(
      batches.flat().sort((a, b) => a - b),
      items,
    );
    assert.equal(batches.filter((b) => b.length !== 16).length, 1);
    assert.equal(batches.find((b) => b.length !== 16)!.length, 1003 % 16);
    assert.throws(() => bucketByLength(items, (i) => lengths[i], 0, seeded(1)), /batchSize must be a positive integer/);
  });

  void test('bucketByLength is deterministic for a seed and varies across seeds', () => {
    const items = lengths.map((_, i) => i);
    const a = bucketByLength(items, (i) => lengths[i], 8, seeded(42));
    const b = bucketByLength(items, (i) => lengths[i], 8, seeded(42));
    const c = bucketByLength(items, (i) => lengths[i], 8, seeded(43));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  void test('on the sample data, length buckets waste far less padding than random batches', async () => {
    const seqs: Sequence[] = [];
    for (const { dataset, encoded } of await encodeSamples({ maxLen: 512, routerMaxLen: 128 })) {
      dataset.close();
      for (const r of encoded) seqs.push(...r.responses);
    }
    assert.ok(seqs.length > 1000, `${seqs.length} sequences`);
    const batchSize = 16;
    const rng = seeded(7);
    const bucketed = bucketByLength(seqs, (s) => s.ids.length, batchSize, rng).map((b) => makeBatch(b, pad));
    const shuffled = seqs.slice();
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
    }
    const random: ReturnType<typeof makeBatch>[] = [];
    for (let k = 0; k < shuffled.length; k += batchSize) random.push(makeBatch(shuffled.slice(k, k + batchSize), pad));
    const waste = { bucketed: paddingWaste(bucketed), random: paddingWaste(random) };
    console.log(
      `padding waste over ${seqs.length} sample responses, batches of ${batchSize}: bucketed ${(waste.bucketed * 100).toFixed(1)}%, random ${(waste.random * 100).toFixed(1)}%`,
    );
    assert.ok(waste.bucketed < waste.random / 3, JSON.stringify(waste));
  });
});
