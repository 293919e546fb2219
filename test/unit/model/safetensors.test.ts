import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeSafetensors, readSafetensors } from '../../../src/core/model/safetensors';
import { writeFileAtomic } from '../../../src/core/io/safe-output';

function rawFile(header: Record<string, unknown>, data: Uint8Array, headerLen?: number): Uint8Array {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerLen ?? json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

void describe('safetensors', () => {
  void test('write → read round trip keeps names, shapes, values and metadata; header padded to 8 bytes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-st-'));
    try {
      const file = join(dir, 'w.safetensors');
      const tensors = new Map([
        ['z.bias', { shape: [3], data: new Float32Array([1.5, -2, 3e-8]) }],
        ['a.weight', { shape: [2, 2], data: new Float32Array([0.1, 0.2, 0.3, 3.4e38]) }],
        ['empty', { shape: [0, 4], data: new Float32Array(0) }],
      ]);
      writeFileAtomic(file, encodeSafetensors(tensors, { step: '12' }));
      assert.deepEqual(readdirSync(dir), ['w.safetensors'], 'no temp file left behind');
      const bytes = readFileSync(file);
      const headerLen = Number(bytes.readBigUInt64LE(0));
      assert.equal(headerLen % 8, 0);
      const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString('utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(header), ['__metadata__', 'a.weight', 'empty', 'z.bias']);
      const back = readSafetensors(file);
      assert.deepEqual(back.metadata, { step: '12' });
      for (const [name, t] of tensors) {
        assert.deepEqual(back.tensors.get(name)!.shape, t.shape);
        assert.deepEqual(back.tensors.get(name)!.data, t.data);
        assert.equal(back.tensors.get(name)!.dtype, 'F32');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('F16, BF16 and small I64 tensors are read as float32', () => {
    const f16 = new Uint8Array(new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001]).buffer); // 1, -2, ≈0.33325, smallest subnormal
    const bf16 = new Uint8Array(new Uint16Array([0x3f80, 0xc0a0]).buffer); // 1, -5
    const i64 = new Uint8Array(new BigInt64Array([0n, 1n, 127n]).buffer);
    const data = new Uint8Array([...f16, ...bf16, ...i64]);
    const file = rawFile(
      {
        h: { dtype: 'F16', shape: [4], data_offsets: [0, 8] },
        b: { dtype: 'BF16', shape: [2], data_offsets: [8, 12] },
        i: { dtype: 'I64', shape: [1, 3], data_offsets: [12, 36] },
      },
      data,
    );
    const { tensors } = readSafetensors(file);
    const h = tensors.get('h')!.data;
    assert.equal(h[0], 1);
    assert.equal(h[1], -2);
    assert.ok(Math.abs(h[2] - 0.33325) < 1e-4);
    assert.equal(h[3], 2 ** -24);
    assert.deepEqual([...tensors.get('b')!.data], [1, -5]);
    assert.deepEqual([...tensors.get('i')!.data], [0, 1, 127]);
  });

  void test('corrupt files give readable errors naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rl-st-'));
    try {
      const file = join(dir, 'bad.safetensors');
      const good = encodeSafetensors(new Map([['w', { shape: [2], data: new Float32Array([1, 2]) }]]));
      const hugeHeader = good.slice();
      new DataView(hugeHeader.buffer).setBigUint64(0, 1n << 40n, true);
      writeFileSync(file, hugeHeader);
      assert.throws(
        () => readSafetensors(file),
        (e: Error) => e.message.includes(file) && /header length .* exceeds the file size/.test(e.message),
      );
      writeFileSync(file, new Uint8Array([1, 2, 3]));
      assert.throws(() => readSafetensors(file), /shorter than the 8-byte header length/);
      assert.throws(
        () => readSafetensors(rawFile({ w: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, new Uint8Array(8))),
        /lie outside the 8 data bytes/,
      );
      assert.throws(
        () => readSafetensors(rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, new Uint8Array(8))),
        /has 8 bytes, but F32 \[3\] needs 12/,
      );
      assert.throws(() => readSafetensors(rawFile({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }, new Uint8Array(8))), /unsupported dtype C64/);
      const notJson = good.slice();
      notJson[8] = 0x7e; // '~'
      assert.throws(() => readSafetensors(notJson), /header is not JSON/);
      const big = new Uint8Array(new BigInt64Array([1n << 40n]).buffer);
      assert.throws(() => readSafetensors(rawFile({ i: { dtype: 'I64', shape: [1], data_offsets: [0, 8] } }, big)), /cannot be read as float32/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
