/**
 * RewardLens checkpoints: one safetensors file holding every part's parameters as "<part>/<param name>",
 * and a JSON manifest beside it (docs/checkpoint-format.md). Both are written atomically, manifest last, so
 * a manifest always describes a complete weights file.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { NamedArray } from './safetensors';
import { writeFileAtomic } from '../io/safe-output';
import { readSafetensors, writeSafetensors } from './safetensors';
import type { Variable } from './tf';
import { FileError } from '../io/file-error';

export const CHECKPOINT_FORMAT = 'rewardlens-checkpoint';
export const CHECKPOINT_VERSION = 1;

export interface CheckpointPart {
  named(): Map<string, Variable>;
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
      tensors.set(`${part}/${name}`, { shape: [...v.shape], data: v.dataSync() as Float32Array });
      index[part].push(name);
    }
  }
  writeSafetensors(file, tensors, { format: 'pt', producer: 'rewardlens' });
  // Caller fields never override the format fields that loaders rely on.
  const full = { ...manifest, format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION, parts: index };
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
  if (manifest.version !== CHECKPOINT_VERSION) throw new FileError(mf, `checkpoint version ${JSON.stringify(manifest.version)} is not supported (this build reads version ${CHECKPOINT_VERSION})`);
  const index = manifest.parts as Record<string, string[]> | undefined;
  if (!index || typeof index !== 'object') throw new FileError(mf, `field 'parts' is missing`);
  const { tensors } = readSafetensors(file);
  const parts: Record<string, Map<string, NamedArray>> = {};
  for (const [part, names] of Object.entries(index)) {
    const m = new Map<string, NamedArray>();
    for (const name of names) {
      const t = tensors.get(`${part}/${name}`);
      if (!t) throw new Error(`${file}: tensor '${part}/${name}' listed in the manifest is missing`);
      m.set(name, { shape: t.shape, data: t.data });
    }
    parts[part] = m;
  }
  return { manifest, parts };
}
