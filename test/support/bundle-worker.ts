import { createRequire } from 'node:module';
import { join } from 'node:path';
import type * as Esbuild from 'esbuild';
import { repoRoot } from './repo-root';

/**
 * Bundles src/worker/train-worker.ts to `outfile` as the build does, optionally with the recipe
 * (core/training/train) replaced by a stand-in module. esbuild comes from the project's node_modules
 * at run time: a bundle cannot contain it.
 */
export async function bundleTrainWorker(outfile: string, recipe?: string): Promise<void> {
  const root = repoRoot();
  const esbuild = createRequire(join(root, 'package.json'))('esbuild') as typeof Esbuild;
  await esbuild.build({
    entryPoints: [join(root, 'src', 'worker', 'train-worker.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'silent',
    mainFields: ['module', 'main'],
    external: ['onnxruntime-node', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
    plugins: recipe ? [{ name: 'stand-in-recipe', setup: (b) => b.onResolve({ filter: /core\/training\/train$/ }, () => ({ path: recipe })) }] : [],
  });
}
