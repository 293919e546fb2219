import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initBackend } from '../../../src/core/model/backend';
import { NonFiniteWeightsError, loadCheckpoint, manifestFile, saveCheckpoint } from '../../../src/core/model/checkpoint';
import { ScalarHead } from '../../../src/core/model/heads';
import { encodeSafetensors, readSafetensors } from '../../../src/core/model/safetensors';

/** Issue 12 item 9: a checkpoint's weights are checked against the manifest and for NaN on load. */

const dir = mkdtempSync(join(tmpdir(), 'rl-ckpt-integrity-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function saved(name: string): string {
  const file = join(dir, `${name}.safetensors`);
  saveCheckpoint(file, { head: ScalarHead.create(4, 1) }, { step: 1 });
  return file;
}

const manifestOf = (file: string): Record<string, unknown> => JSON.parse(readFileSync(manifestFile(file), 'utf8')) as Record<string, unknown>;

void describe('checkpoint integrity', () => {
  before(() => initBackend('wasm'));

  void it('the manifest records the SHA-256 of the weights file, and a changed file is refused', () => {
    const file = saved('changed');
    assert.match(String(manifestOf(file).weightsSha256), /^[0-9a-f]{64}$/);
    loadCheckpoint(file);
    const bytes = readFileSync(file);
    bytes[bytes.length - 1] ^= 0x01;
    writeFileSync(file, bytes);
    assert.throws(() => loadCheckpoint(file), /SHA-256 [0-9a-f]{64} differs from the manifest's weightsSha256/);
  });

  void it('a manifest without weightsSha256 (an earlier run) still loads', () => {
    const file = saved('older');
    const m = manifestOf(file);
    delete m.weightsSha256;
    writeFileSync(manifestFile(file), JSON.stringify(m));
    assert.equal(loadCheckpoint(file).parts.head.get('weight')!.data.length, 4);
  });

  void it('NaN or infinite weights are refused, naming the tensor', () => {
    const file = saved('nan');
    const { tensors, metadata } = readSafetensors(file);
    tensors.get('head/weight')!.data.fill(Number.NaN);
    writeFileSync(file, encodeSafetensors(tensors, metadata));
    const m = manifestOf(file);
    delete m.weightsSha256; // as an older run's manifest, so that only the values are checked
    writeFileSync(manifestFile(file), JSON.stringify(m));
    assert.throws(
      () => loadCheckpoint(file),
      (e: unknown) => e instanceof NonFiniteWeightsError && /tensor 'head\/weight' holds NaN \(element 0\): the weights are not finite/.test(e.message),
    );
  });
});
