/**
 * RewardLens checkpoints: one safetensors file holding every part's parameters as "<part>/<param name>",
 * and a JSON manifest beside it (docs/checkpoint-format.md). Both are written atomically, manifest last, so
 * a manifest always describes a complete weights file. The manifest carries the weights file's SHA-256
 * (`weightsSha256`), checked on load when present (manifests of earlier runs lack it), and no loaded
 * weight may be NaN or infinite: a diverged or corrupted checkpoint otherwise scores NaN, which sorts
 * and compares as "not better", and evaluates to 0.0% without a word.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import type { NamedArray } from './safetensors';
import { writeFileAtomic } from '../io/safe-output';
import { encodeSafetensors, readSafetensors } from './safetensors';
import { FileError } from '../io/file-error';

export const CHECKPOINT_FORMAT = 'rewardlens-checkpoint';
export const CHECKPOINT_VERSION = 1;

/** A tensor as a checkpoint stores it: TensorFlow.js variables and plain arrays (arrays.ts) both are. */
export interface StoredTensor {
  readonly shape: readonly number[];
  dataSync(): Float32Array | Int32Array | Uint8Array;
}

export interface CheckpointPart {
  named(): Map<string, StoredTensor>;
}

export interface LoadedCheckpoint {
  manifest: Record<string, unknown>;
  parts: Record<string, Map<string, NamedArray>>;
}

/** name.safetensors → name.json */
export function manifestFile(file: string): string {
  return file.replace(/\.safetensors$/, '') + '.json';
}

export function saveCheckpoint(file: string, parts: Record<string, CheckpointPart>, manifest: Record<string, unknown>): void {
  if (!file.endsWith('.safetensors')) throw new Error(`${file}: a checkpoint file name must end in .safetensors`);
  const tensors = new Map<string, NamedArray>();
  const index: Record<string, string[]> = {};
  for (const [part, holder] of Object.entries(parts)) {
    if (part.includes('/')) throw new Error(`${file}: part name '${part}' must not contain '/'`);
    index[part] = [];
    for (const [name, v] of holder.named()) {
      const data = v.dataSync();
      tensors.set(`${part}/${name}`, { shape: [...v.shape], data: data instanceof Float32Array ? data : Float32Array.from(data) });
      index[part].push(name);
    }
  }
  const bytes = encodeSafetensors(tensors, { format: 'pt', producer: 'rewardlens' });
  writeFileAtomic(file, bytes);
  // Caller fields never override the format fields that loaders rely on.
  const full = { ...manifest, format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, parts: index, weightsSha256: sha256(bytes) };
  writeFileAtomic(manifestFile(file), JSON.stringify(full, null, 2) + '\n');
}

export function loadCheckpoint(file: string): LoadedCheckpoint {
  const mf = manifestFile(file);
  if (!existsSync(mf)) throw new FileError(mf, `checkpoint manifest not found (is ${file} a RewardLens checkpoint?)`);
  let manifest: Record<string, unknown>;
  try {
    manifest = JSON.parse(readFileSync(mf, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new FileError(mf, `cannot read JSON (${(e as Error).message})`);
  }
  if (manifest.format !== CHECKPOINT_FORMAT) throw new FileError(mf, `field 'format' is ${JSON.stringify(manifest.format)}, not '${CHECKPOINT_FORMAT}'`);
  if (manifest.version !== CHECKPOINT_VERSION)
    throw new FileError(mf, `checkpoint version ${JSON.stringify(manifest.version)} is not supported (this build reads version ${CHECKPOINT_VERSION})`);
  const index = manifest.parts as Record<string, string[]> | undefined;
  if (!index || typeof index !== 'object') throw new FileError(mf, `field 'parts' is missing`);
  const expected = manifest.weightsSha256;
  if (expected !== undefined) {
    if (typeof expected !== 'string' || !/^[0-9a-f]{64}$/.test(expected))
      throw new FileError(mf, `field 'weightsSha256' is ${JSON.stringify(expected)}, not 64 lowercase hex digits`);
    const actual = sha256File(file);
    if (actual !== expected)
      throw new FileError(
        file,
        `SHA-256 ${actual} differs from the manifest's weightsSha256 ${expected}: the weights file is corrupt or was replaced after the checkpoint was written`,
      );
  }
  const { tensors } = readSafetensors(file);
  const parts: Record<string, Map<string, NamedArray>> = {};
  for (const [part, names] of Object.entries(index)) {
    const m = new Map<string, NamedArray>();
    for (const name of names) {
      const t = tensors.get(`${part}/${name}`);
      if (!t) throw new Error(`${file}: tensor '${part}/${name}' listed in the manifest is missing`);
      const bad = t.data.findIndex((x) => !Number.isFinite(x));
      if (bad >= 0)
        throw new NonFiniteWeightsError(
          `${file}: tensor '${part}/${name}' holds ${t.data[bad]} (element ${bad}): the weights are not finite (training diverged, or the file is corrupt); retrain with a smaller learning rate`,
        );
      m.set(name, { shape: t.shape, data: t.data });
    }
    parts[part] = m;
  }
  return { manifest, parts };
}

export class NonFiniteWeightsError extends Error {}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** In pieces: a large base's checkpoint is more than one Node buffer holds. */
function sha256File(file: string): string {
  const h = createHash('sha256');
  const fd = openSync(file, 'r');
  try {
    const piece = new Uint8Array(1 << 24);
    for (let n = readSync(fd, piece); n > 0; n = readSync(fd, piece)) h.update(piece.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}
