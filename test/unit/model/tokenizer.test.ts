import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TextTokenizer, defaultTokenizerFile } from '../../../src/core/model/tokenizer';

// Paths relative to the repository root: the unit runner starts node there.
const TINY = join('test', 'fixtures', 'hf-reference', 'tiny-bert', 'tokenizer.json');
const REFERENCE = join('test', 'fixtures', 'hf-reference', 'tiny-bert-reference.json');

interface Reference {
  texts: Array<{ query: string; response: string }>;
  max_length: number;
  input_ids: number[][];
  token_type_ids: number[][];
  attention_mask: number[][];
}

const SAMPLES = join('test', 'fixtures', 'samples');

/** Every string of at least `minLength` characters in the sample datasets (zh and en, real punctuation and layout). */
function sampleStrings(minLength: number): string[] {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') {
      if (v.length >= minLength) out.push(v);
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  for (const f of readdirSync(SAMPLES).filter((n) => n.endsWith('.jsonl'))) {
    for (const line of readFileSync(join(SAMPLES, f), 'utf8').split('\n')) if (line.trim()) walk(JSON.parse(line));
  }
  return out;
}

const reference = JSON.parse(readFileSync(REFERENCE, 'utf8')) as Reference;
const tiny = TextTokenizer.fromFile(TINY);

/** The reference rows without their right padding. */
function unpadded(row: number[], mask: number[]): number[] {
  return row.slice(
    0,
    mask.reduce((a, b) => a + b, 0),
  );
}

void describe('tiny-bert fixture (transformers + tokenizers reference)', () => {
  void test('specials and vocabulary size come from the tokenizer files', () => {
    assert.deepEqual({ ...tiny.special }, { pad: 0, unk: 1, cls: 2, sep: 3 });
    assert.equal(tiny.vocabSize, 294);
  });

  void test('encodePair equals the reference input_ids and token_type_ids of every text', () => {
    reference.texts.forEach(({ query, response }, i) => {
      const mask = reference.attention_mask[i];
      const enc = tiny.encodePair(query, response, reference.max_length);
      assert.deepEqual(Array.from(enc.ids), unpadded(reference.input_ids[i], mask), `ids of text ${i}`);
      assert.deepEqual(Array.from(enc.typeIds), unpadded(reference.token_type_ids[i], mask), `type ids of text ${i}`);
    });
  });

  void test('the long text was truncated in the reference and is cut the same way here', () => {
    // transformers' longest_first cuts the longer side from its end; with a short query that is exactly
    // "keep the whole context, the start of the response".
    const last = reference.texts.length - 1;
    const full = tiny.encodePair(reference.texts[last].query, reference.texts[last].response, 10_000);
    assert.ok(full.ids.length > reference.max_length);
    assert.equal(tiny.encodePair(reference.texts[last].query, reference.texts[last].response, reference.max_length).ids.length, reference.max_length);
  });

  void test('an empty response still gets its [SEP] with token type 1', () => {
    const enc = tiny.encodePair('hi', '', 48);
    assert.deepEqual(Array.from(enc.ids), [2, ...tiny.tokenize('hi'), 3, 3]);
    assert.deepEqual(Array.from(enc.typeIds), [0, 0, 0, 0, 1]);
  });
});

void describe('shipped bert-base-chinese tokenizer', () => {
  const bert = TextTokenizer.default();

  void test('is found by walking up from the bundle and is loaded once', () => {
    assert.match(bert.file.replace(/\\/g, '/'), /models\/tokenizers\/bert-base-chinese\/tokenizer\.json$/);
    assert.equal(TextTokenizer.default(), bert);
    assert.equal(bert.vocabSize, 21128);
    assert.deepEqual({ ...bert.special }, { pad: 0, unk: 100, cls: 101, sep: 102 });
  });

  void test('ids are those of the Rust tokenizers library', () => {
    // Produced by tokenizers 0.23.3 (Python) from the same tokenizer.json, as scripts/make-tokenizer.py does.
    const rust: Array<[string, number[]]> = [
      ['你好，世界 Hello world', [872, 1962, 8024, 686, 4518, 8701, 8572]],
      ['Café naïve RÉSUMÉ', [8377, 11469, 8857, 8847, 11442, 8505]],
      [
        'GPT-4o 在 2024 年发布，价格 $5/1M tokens！',
        [13228, 8165, 118, 125, 8167, 1762, 9707, 8159, 2399, 1355, 2357, 8024, 817, 3419, 109, 126, 120, 12103, 8228, 11285, 8118, 8013],
      ],
      ['unaffordable antidisestablishmentarianism', [163, 8374, 9049, 8372, 8521, 8862, 9204, 9172, 12856, 8383, 8204, 13128, 8631, 11172, 13154, 10244]],
      ['tab\there\u00a0nbsp\u3000x\u200by\u0000z', [10476, 10815, 8400, 11266]],
      ['😀 ㊗ ①', [100, 100, 405]],
    ];
    for (const [text, ids] of rust) assert.deepEqual(bert.tokenize(text), ids, text);
    assert.deepEqual(Array.from(bert.encodeSingle('你好，世界 Hello world', 512).ids), [101, 872, 1962, 8024, 686, 4518, 8701, 8572, 102]);
  });

  void test('Chinese characters are one token each; English words are lower-cased wordpieces', () => {
    const zh = '如何简洁地描写点心的香味';
    assert.equal(bert.tokenize(zh).length, [...zh].length);
    assert.deepEqual(bert.tokens(bert.tokenize('Hello WORLD')), ['hello', 'world']);
    assert.ok(
      bert
        .tokens(bert.tokenize('antidisestablishmentarianism'))
        .slice(1)
        .every((t) => t.startsWith('##')),
    );
  });

  void test('a long context keeps its end, a long response its start, the response gets half of maxLen', () => {
    const ctx = Array.from({ length: 300 }, (_, i) => `c${i}`).join(' ');
    const resp = Array.from({ length: 300 }, (_, i) => `r${i}`).join(' ');
    const ctxIds = bert.tokenize(ctx);
    const respIds = bert.tokenize(resp);
    const enc = bert.encodePair(ctx, resp, 64);
    assert.equal(enc.ids.length, 64);
    const sepAt = enc.ids.indexOf(bert.special.sep);
    const keptCtx = Array.from(enc.ids.subarray(1, sepAt));
    const keptResp = Array.from(enc.ids.subarray(sepAt + 1, 63));
    assert.equal(keptResp.length, 32);
    assert.equal(keptCtx.length, 64 - 3 - 32);
    assert.deepEqual(keptCtx, ctxIds.slice(-keptCtx.length));
    assert.deepEqual(keptResp, respIds.slice(0, 32));
    assert.equal(enc.ids[63], bert.special.sep);
    assert.deepEqual(Array.from(enc.typeIds), [...new Array<number>(sepAt + 1).fill(0), ...new Array<number>(64 - sepAt - 1).fill(1)]);
  });

  void test('whichever side is short leaves its unused room to the other', () => {
    const longCtx = '很长的对话'.repeat(40);
    const shortResp = '好的';
    const a = bert.encodePair(longCtx, shortResp, 32);
    assert.equal(a.ids.length, 32);
    assert.deepEqual(Array.from(a.ids.subarray(-3)), [...bert.tokenize(shortResp), bert.special.sep]);
    assert.deepEqual(Array.from(a.ids.subarray(1, 28)), bert.tokenize(longCtx).slice(-27));

    const longResp = 'a very long answer '.repeat(20);
    const b = bert.encodePair('hi there', longResp, 32);
    const hi = bert.tokenize('hi there');
    assert.equal(b.ids.length, 32);
    assert.deepEqual(Array.from(b.ids.subarray(0, hi.length + 2)), [bert.special.cls, ...hi, bert.special.sep]);
    assert.deepEqual(Array.from(b.ids.subarray(hi.length + 2, 31)), bert.tokenize(longResp).slice(0, 29 - hi.length));
  });

  void test('tokenizing only the needed end or start of a text gives the same ids as the whole text', () => {
    const texts = sampleStrings(400);
    assert.ok(texts.length > 100, 'the samples hold long texts');
    let windowed = 0;
    for (const text of texts) {
      const all = bert.tokenize(text);
      for (const count of [1, 9, 61, 509]) {
        assert.deepEqual(bert.tokenizeTail(text, count), all.slice(-count), `tail ${count} of ${JSON.stringify(text.slice(0, 60))}`);
        assert.deepEqual(bert.tokenizeHead(text, count), all.slice(0, count), `head ${count} of ${JSON.stringify(text.slice(0, 60))}`);
        if (count * 6 + 64 < text.length) windowed++;
      }
    }
    assert.ok(windowed > 100, `the window was smaller than the text ${windowed} times`);
    // Whitespace runs and mixed scripts at the cut.
    const mixed = `${'word  \n\t'.repeat(50)}中文混排English${'。 ，'.repeat(40)}end`;
    // No boundary at all: one word longer than max_input_chars_per_word, a single [UNK].
    const word = 'x'.repeat(3000);
    for (const text of [mixed, word, `${word} ${mixed}`]) {
      for (const count of [1, 3, 10, 100]) {
        assert.deepEqual(bert.tokenizeTail(text, count), bert.tokenize(text).slice(-count));
        assert.deepEqual(bert.tokenizeHead(text, count), bert.tokenize(text).slice(0, count));
      }
    }
    assert.deepEqual(bert.tokenizeTail(word, 5), [bert.special.unk]);
  });

  void test('texts that fit are not cut', () => {
    const enc = bert.encodePair('你好', 'Hello', 16);
    assert.deepEqual(Array.from(enc.ids), [101, 872, 1962, 102, ...bert.tokenize('Hello'), 102]);
    assert.deepEqual(Array.from(enc.typeIds), [0, 0, 0, 0, 1, 1]);
  });

  void test('encodeSingle keeps the end of the text, all token types 0', () => {
    const text = '第一句话。第二句话。最后一句话。';
    const enc = bert.encodeSingle(text, 8);
    assert.equal(enc.ids.length, 8);
    assert.deepEqual(Array.from(enc.ids.subarray(1, 7)), bert.tokenize(text).slice(-6));
    assert.deepEqual([enc.ids[0], enc.ids[7]], [101, 102]);
    assert.ok(enc.typeIds.every((t) => t === 0));
    assert.deepEqual(Array.from(bert.encodeSingle('', 8).ids), [101, 102]);
  });

  void test('maxLen too small for the specials is a readable error', () => {
    assert.throws(() => bert.encodePair('a', 'b', 3), /maxLen must be an integer above 3/);
    assert.throws(() => bert.encodeSingle('a', 2), /maxLen must be an integer above 2/);
  });
});

void describe('loading', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rl-tokenizer-'));

  void test('errors name the file and the reason', () => {
    const missing = join(dir, 'nope', 'tokenizer.json');
    assert.throws(
      () => TextTokenizer.fromFile(missing),
      (e: Error) => e.message.startsWith(`${missing}: cannot read the tokenizer (no such file or folder)`),
    );
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{"model": ');
    assert.throws(
      () => TextTokenizer.fromFile(broken),
      (e: Error) => e.message.startsWith(`${broken}: the tokenizer is not valid JSON`),
    );
    const notTokenizer = join(dir, 'other.json');
    writeFileSync(notTokenizer, '{"hello": 1}');
    assert.throws(
      () => TextTokenizer.fromFile(notTokenizer),
      (e: Error) => e.message.startsWith(`${notTokenizer}: cannot load the tokenizer`),
    );
  });

  void test('a tokenizer without [CLS] is refused with the reason', () => {
    const json = JSON.parse(readFileSync(TINY, 'utf8')) as { model: { vocab: Record<string, number> }; added_tokens: Array<{ content: string }> };
    delete json.model.vocab['[CLS]'];
    json.added_tokens = json.added_tokens.filter((t) => t.content !== '[CLS]');
    const sub = join(dir, 'no-cls');
    mkdirSync(sub);
    const file = join(sub, 'tokenizer.json');
    writeFileSync(file, JSON.stringify(json));
    assert.throws(() => TextTokenizer.fromFile(file), /no-cls[\\/]tokenizer\.json: the CLS token \[CLS\] is not in the vocabulary/);
  });

  void test('REWARDLENS_MODELS_DIR points at another models folder', () => {
    const saved = process.env.REWARDLENS_MODELS_DIR;
    try {
      process.env.REWARDLENS_MODELS_DIR = join(dir, 'models');
      assert.throws(() => defaultTokenizerFile(), /models[\\/]tokenizers[\\/]bert-base-chinese[\\/]tokenizer\.json: not found \(REWARDLENS_MODELS_DIR/);
      mkdirSync(join(dir, 'models', 'tokenizers', 'bert-base-chinese'), { recursive: true });
      writeFileSync(join(dir, 'models', 'tokenizers', 'bert-base-chinese', 'tokenizer.json'), readFileSync(TINY));
      assert.equal(TextTokenizer.default().vocabSize, 294);
    } finally {
      if (saved === undefined) delete process.env.REWARDLENS_MODELS_DIR;
      else process.env.REWARDLENS_MODELS_DIR = saved;
    }
    assert.equal(TextTokenizer.default().vocabSize, 21128);
  });
});
