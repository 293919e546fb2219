/**
 * Choosing and starting the TensorFlow.js backend: native TensorFlow (tfjs-node, tfjs-node-gpu) when the user
 * installed it, else SIMD WebAssembly (bundled), else tfjs's pure-JS cpu backend.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmKernelFixes } from './kernels';
import { bundledTf, tf, useTfNamespace } from './tf';
import type { TfNamespace } from './tf';

/** The TensorFlow.js backends RewardLens can train and score with. */
export const BACKENDS = ['wasm', 'cpu', 'tfjs-node', 'tfjs-node-gpu'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendInfo {
  backend: BackendName;
  /** tf.getBackend() after initialisation: 'wasm', 'cpu' or 'tensorflow'. */
  tfBackend: string;
  /** Why the backend in use is not the one asked for, or a caveat about it. */
  note?: string;
}

export interface BackendOptions {
  /** Folders holding a node_modules with @tensorflow/tfjs-node(-gpu), tried before normal resolution. */
  nativeModulePaths?: string[];
}

const WASM_PROBE = 'tfjs-backend-wasm-simd.wasm';
const AUTO_ORDER: BackendName[] = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'];

export async function initBackend(requested: BackendName | 'auto', options: BackendOptions = {}): Promise<BackendInfo> {
  if (requested !== 'auto') return start(requested, options);
  const skipped: string[] = [];
  for (const name of AUTO_ORDER) {
    try {
      const info = await start(name, options);
      if (skipped.length) info.note = [info.note, `auto: ${skipped.join('; ')}`].filter(Boolean).join('; ');
      return info;
    } catch (e) {
      skipped.push((e as Error).message);
    }
  }
  throw new Error(`no TensorFlow.js backend could start: ${skipped.join('; ')}`);
}

async function start(name: BackendName, options: BackendOptions): Promise<BackendInfo> {
  switch (name) {
    case 'wasm':
      return startWasm();
    case 'cpu':
      return startBundled('cpu');
    case 'tfjs-node':
    case 'tfjs-node-gpu':
      return startNative(name, options.nativeModulePaths ?? []);
  }
}

async function startWasm(): Promise<BackendInfo> {
  useTfNamespace(bundledTf());
  if (tf.getBackend() !== 'wasm') {
    const dir = findWasmDir();
    if (!dir) {
      throw new Error(`wasm backend: ${WASM_PROBE} not found (set REWARDLENS_WASM_DIR to the folder holding it, or rebuild: the build copies it into dist/)`);
    }
    setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
  }
  registerWasmKernelFixes();
  return startBundled('wasm');
}

async function startBundled(name: 'wasm' | 'cpu'): Promise<BackendInfo> {
  useTfNamespace(bundledTf());
  let ok = false;
  let reason = '';
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (e) {
    reason = (e as Error).message;
  }
  // setBackend can report success and still leave another backend active (tfjs falls back silently).
  const actual = tf.getBackend();
  if (!ok || actual !== name) {
    throw new Error(`${name} backend did not start${reason ? `: ${reason}` : ''} (TensorFlow.js is using '${actual}')`);
  }
  return { backend: name, tfBackend: actual };
}

/** Folder holding tfjs-backend-wasm's .wasm files: $REWARDLENS_WASM_DIR, a dist/ above this bundle, or the package. */
export function findWasmDir(): string | undefined {
  const env = process.env.REWARDLENS_WASM_DIR;
  if (env && existsSync(join(env, WASM_PROBE))) return env;
  for (let dir = __dirname; ; dir = dirname(dir)) {
    for (const candidate of [dir, join(dir, 'dist')]) if (existsSync(join(candidate, WASM_PROBE))) return candidate;
    if (dirname(dir) === dir) break;
  }
  try {
    const pkg = createRequire(__filename).resolve('@tensorflow/tfjs-backend-wasm/package.json');
    const dist = join(dirname(pkg), 'dist');
    if (existsSync(join(dist, WASM_PROBE))) return dist;
  } catch {
    // not installed beside this bundle: the two places above were the ones that count
  }
  return undefined;
}

async function startNative(name: 'tfjs-node' | 'tfjs-node-gpu', paths: string[]): Promise<BackendInfo> {
  const loaded = requireNative(`@tensorflow/${name}`, paths);
  if ('error' in loaded) {
    const how =
      name === 'tfjs-node-gpu'
        ? "run 'RewardLens: Install GPU Training Backend' (needs CUDA 11.2 and cuDNN 8.1), or choose the wasm backend"
        : "run 'RewardLens: Install Native Training Backend', or choose the wasm backend";
    throw new Error(loaded.missing ? `${name} is not installed: ${how}` : `${name} is installed but does not load: ${loaded.error}`);
  }
  const ns = loaded.ns;
  let reason = '';
  try {
    await ns.setBackend('tensorflow');
    await ns.ready();
  } catch (e) {
    reason = (e as Error).message;
  }
  const actual = ns.getBackend();
  if (actual !== 'tensorflow') throw new Error(`${name} loaded but its 'tensorflow' backend did not start${reason ? `: ${reason}` : ''} (active: '${actual}')`);
  useTfNamespace(ns);
  return {
    backend: name,
    tfBackend: actual,
    note: name === 'tfjs-node-gpu' ? 'TensorFlow places ops on the GPU only when CUDA 11.2 and cuDNN 8.1 load; otherwise it runs them on the CPU' : undefined,
  };
}

type NativeLoad = { ns: TfNamespace } | { error: string; missing: boolean };

/** Loads a native tfjs package from the given folders, then by normal resolution; never a static import. */
function requireNative(pkg: string, paths: string[]): NativeLoad {
  const requirers = [...paths.map((p) => createRequire(join(p, 'noop.js'))), createRequire(__filename)];
  let firstError: string | undefined;
  for (const req of requirers) {
    let resolved: string;
    try {
      resolved = req.resolve(pkg);
    } catch {
      continue;
    }
    try {
      return { ns: req(resolved) as TfNamespace };
    } catch (e) {
      firstError ??= `${resolved}: ${(e as Error).message}`;
    }
  }
  return firstError ? { error: firstError, missing: false } : { error: `${pkg} not found`, missing: true };
}
