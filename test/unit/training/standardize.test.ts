import assert from 'node:assert/strict';
import { test } from 'node:test';
import { initBackend } from '../../../src/core/model/backend';
import { tf, variableOf } from '../../../src/core/model/tf';
import { Standardizer } from '../../../src/core/training/embedding-cache';

void test('a standardisation folded into a linear layer gives the same outputs on raw inputs', async () => {
  await initBackend('wasm');
  // Nearly constant inputs, as a collapsed frozen encoder gives them: offset 5, spread 1e-3.
  const rows = Array.from({ length: 20 }, (_, i) => Float32Array.from({ length: 4 }, (_, j) => 5 + j + Math.sin(i * 7 + j) * 1e-3));
  const std = Standardizer.fit(rows);
  for (const r of rows.map((x) => std.apply(x))) for (const v of r) assert.ok(Math.abs(v) < 2.5, `standardised value ${v}`);
  const w = Float32Array.from({ length: 3 * 4 }, (_, k) => Math.cos(k));
  const b = Float32Array.from([0.1, -0.2, 0.3]);
  const weight = variableOf(w, [3, 4]);
  const bias = variableOf(b, [3]);
  const expected = rows.map((x) => {
    const xs = std.apply(x);
    return [0, 1, 2].map((o) => b[o] + [0, 1, 2, 3].reduce((s, j) => s + w[o * 4 + j] * xs[j], 0));
  });
  std.foldInto(weight, bias);
  const fw = weight.dataSync();
  const fb = bias.dataSync();
  rows.forEach((x, i) => {
    [0, 1, 2].forEach((o) => {
      const got = fb[o] + [0, 1, 2, 3].reduce((s, j) => s + fw[o * 4 + j] * x[j], 0);
      // Float32 weights of ~1e3 against inputs of ~5: compare relative to the magnitudes involved.
      assert.ok(Math.abs(got - expected[i][o]) < 2e-2, `row ${i} out ${o}: ${got} vs ${expected[i][o]}`);
    });
  });
  tf.dispose([weight, bias]);
});
