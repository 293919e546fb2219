import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decoderLastToken } from '../../../src/core/export/decoder-graph';
import { GraphBuilder, sequenceInputs } from '../../../src/core/export/graph';
import { mergeLoraWeights } from '../../../src/core/model/lora';
import { DataType, encodeModel } from '../../../src/core/export/proto';
import { isDecoder } from '../../../src/core/model/config';
import type { DecoderConfig, LoraConfig } from '../../../src/core/model/config';
import { createDecoderLora, decoderConfigFrom } from '../../../src/core/model/decoder';
import { loadBaseFolder } from '../../../src/core/model/hf-import';
import type { NamedArray } from '../../../src/core/model/safetensors';
import { TextTokenizer } from '../../../src/core/model/tokenizer';

const FIXTURES = join(process.cwd(), 'test/fixtures/hf-reference');

interface Reference {
  input_ids: number[][];
  attention_mask: number[][];
  last_token_index: number[];
  last_hidden_state: number[][][];
}

const ref = JSON.parse(readFileSync(join(FIXTURES, 'tiny-qwen2-reference.json'), 'utf8')) as Reference;

/** A graph of the decoder alone: input_ids, attention_mask → last [B, H]. */
async function lastTokenStates(c: DecoderConfig, weights: Map<string, NamedArray>, ids: number[][], mask: number[][]): Promise<Float32Array> {
  const g = new GraphBuilder();
  const lookup = g.int64(
    Array.from({ length: c.vocabSize }, (_, i) => i),
    [c.vocabSize],
    'lookup',
  );
  const idsIn = g.input('input_ids', DataType.INT64, ['batch', 'sequence']);
  const maskIn = g.input('attention_mask', DataType.INT64, ['batch', 'sequence']);
  const last = decoderLastToken(g, c, weights, sequenceInputs(g, lookup, idsIn, maskIn), 'dec', 'tiny-qwen2');
  g.output('last', last, DataType.FLOAT, ['batch', c.hidden]);
  const bytes = encodeModel({ irVersion: 8, opset: 17, producerName: 'test', producerVersion: '0', docString: '', graph: g.graph('decoder'), metadata: {} });
  const session = await ort.InferenceSession.create(bytes);
  const B = ids.length;
  const T = ids[0].length;
  const tensor = (rows: number[][]): ort.Tensor =>
    new ort.Tensor(
      'int64',
      BigInt64Array.from(rows.flat(), (v) => BigInt(v)),
      [B, T],
    );
  const out = await session.run({ input_ids: tensor(ids), attention_mask: tensor(mask) });
  await session.release();
  return out.last.data as Float32Array;
}

function weightsOf(): { config: DecoderConfig; named: Map<string, NamedArray> } {
  const base = loadBaseFolder(join(FIXTURES, 'tiny-qwen2'));
  assert.equal(base.kind, 'decoder');
  if (base.kind !== 'decoder') throw new Error('unreachable');
  return { config: base.config, named: base.weights.arrays };
}

void describe('Qwen2 decoder in ONNX', () => {
  void test('reads config.json as the Qwen2 family', () => {
    const { config } = weightsOf();
    assert.ok(isDecoder(config));
    assert.deepEqual(
      { ...config },
      {
        architecture: 'qwen2',
        vocabSize: 294,
        hidden: 64,
        layers: 2,
        heads: 4,
        kvHeads: 2,
        headDim: 16,
        intermediate: 128,
        maxPositions: 256,
        rmsNormEps: 1e-6,
        ropeTheta: 10000,
        attentionBias: true,
      },
    );
  });

  void test("last-token hidden states equal transformers' Qwen2Model to 1e-4 (right padding, grouped-query attention)", async () => {
    const { config, named } = weightsOf();
    const got = await lastTokenStates(config, named, ref.input_ids, ref.attention_mask);
    const H = config.hidden;
    let worst = 0;
    ref.last_token_index.forEach((t, b) => {
      const want = ref.last_hidden_state[b][t];
      for (let h = 0; h < H; h++) worst = Math.max(worst, Math.abs(got[b * H + h] - want[h]));
    });
    assert.ok(worst < 1e-4, `max |difference| ${worst}`);
  });

  void test('padding never changes a row: each text alone gives its batched state', async () => {
    const { config, named } = weightsOf();
    const batched = await lastTokenStates(config, named, ref.input_ids, ref.attention_mask);
    const b = ref.attention_mask.findIndex((m) => m.includes(0));
    assert.ok(b >= 0, 'the reference has a padded row');
    const n = ref.last_token_index[b] + 1;
    const alone = await lastTokenStates(config, named, [ref.input_ids[b].slice(0, n)], [ref.attention_mask[b].slice(0, n)]);
    const H = config.hidden;
    for (let h = 0; h < H; h++) assert.ok(Math.abs(alone[h] - batched[b * H + h]) < 1e-5);
  });

  void test('a LoRA adapter on q_proj/v_proj merges into the weights it targets only', async () => {
    const { config, named } = weightsOf();
    const lora: LoraConfig = { r: 4, alpha: 8, dropout: 0, targets: ['query', 'value'] };
    const adapter = new Map(
      [...createDecoderLora(config, lora, 1).named()].map(([n, t]) => [n, { shape: [...t.shape], data: Float32Array.from(t.dataSync()) }]),
    );
    assert.deepEqual(adapter.get('layers.0.self_attn.v_proj.lora_B.weight')?.shape, [config.kvHeads * config.headDim, 4]);
    // B starts at 0 (a no-op adapter); make it non-zero so the merge shows.
    for (const [n, t] of adapter) if (n.includes('lora_B')) t.data.fill(0.01);
    const merged = mergeLoraWeights(named, adapter, lora.alpha / lora.r, 'test');
    assert.notDeepEqual(merged.get('layers.1.self_attn.q_proj.weight')!.data, named.get('layers.1.self_attn.q_proj.weight')!.data);
    assert.equal(merged.get('layers.1.self_attn.k_proj.weight'), named.get('layers.1.self_attn.k_proj.weight'));
    const plain = await lastTokenStates(config, named, ref.input_ids, ref.attention_mask);
    const adapted = await lastTokenStates(config, merged, ref.input_ids, ref.attention_mask);
    assert.ok(plain.some((v, i) => Math.abs(v - adapted[i]) > 1e-4));
  });

  void test('configurations it cannot compute exactly are refused by name', () => {
    const base = JSON.parse(readFileSync(join(FIXTURES, 'tiny-qwen2', 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.throws(() => decoderConfigFrom({ ...base, rope_parameters: { rope_type: 'yarn', rope_theta: 1e6 } }, 'config.json'), /rotary scaling "yarn"/);
    assert.throws(() => decoderConfigFrom({ ...base, use_sliding_window: true }, 'config.json'), /use_sliding_window/);
    assert.throws(() => decoderConfigFrom({ ...base, num_key_value_heads: 3 }, 'config.json'), /not a multiple/);
    assert.throws(() => decoderConfigFrom({ ...base, model_type: 'gpt2' }, 'config.json'), /qwen2 or llama/);
    const llama = decoderConfigFrom({ ...base, model_type: 'llama', rope_theta: 500000, rope_parameters: undefined }, 'config.json');
    assert.equal(llama.attentionBias, false);
    assert.equal(llama.ropeTheta, 500000);
  });
});

void describe('decoder sequences', () => {
  const tokenizer = TextTokenizer.fromFile(join(FIXTURES, 'tiny-qwen2', 'tokenizer.json'), 'decoder');

  void test("context then response, no [CLS]/[SEP]: the reference's ids of query + ' ' + response", () => {
    const texts: Array<[string, string]> = [
      ['What is the boiling point of water at sea level?', 'It is 100 degrees Celsius at sea level.'],
      ['你觉得我要不要裸辞？', '考虑到你的困扰，是否选择裸辞确实需要深思熟虑。'],
    ];
    texts.forEach(([q, r], b) => {
      const n = ref.last_token_index[b] + 1;
      // The fixture's tokenizer has no eos, and a line break is whitespace to it: nothing is added.
      assert.deepEqual([...tokenizer.encodePair(q, r, 48).ids], ref.input_ids[b].slice(0, n));
    });
    assert.equal(tokenizer.pairOverhead, 0);
  });

  void test('an eos token ends every sequence and truncation keeps room for it', () => {
    const withEos = TextTokenizer.fromFile(join(FIXTURES, 'tiny-qwen2', 'tokenizer.json'), 'decoder', { cls: -1, sep: -1, unk: -1, pad: 0, eos: 3 });
    const long = 'word '.repeat(100);
    const pair = withEos.encodePair(long, long, 20).ids;
    assert.equal(pair.length, 20);
    assert.equal(pair[19], 3);
    const single = withEos.encodeSingle(long, 10).ids;
    assert.equal(single.length, 10);
    assert.equal(single[9], 3);
  });
});
