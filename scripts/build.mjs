// Bundles every entry point with esbuild; types are checked separately (`npm run typecheck`).
import * as esbuild from 'esbuild';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

function testEntries(dir, outDir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ in: join(dir, f), out: join(outDir, f.replace(/\.ts$/, '')) }));
}

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // jsonc-parser's UMD "main" build requires its modules dynamically, which a bundle cannot follow.
  mainFields: ['module', 'main'],
  external: ['vscode', 'onnxruntime-node', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', 'mocha', 'playwright-core'],
};

const node = {
  ...common,
  entryPoints: [
    { in: 'src/extension/main.ts', out: 'extension' },
    { in: 'src/cli/main.ts', out: 'cli' },
    { in: 'src/core/dataset/scan-worker.ts', out: 'scan-worker' },
    { in: 'src/worker/train-worker.ts', out: 'train-worker' },
    { in: 'bench/index-speed.ts', out: 'bench/index-speed' },
    { in: 'bench/label-throughput.ts', out: 'bench/label-throughput' },
    { in: 'bench/llmeval2-experiment.ts', out: 'bench/llmeval2-experiment' },
    { in: 'bench/train-speed.ts', out: 'bench/train-speed' },
    { in: 'bench/engine-speed.ts', out: 'bench/engine-speed' },
    { in: 'bench/score-speed.ts', out: 'bench/score-speed' },
    { in: 'bench/hover-latency.ts', out: 'bench/hover-latency' },
    { in: 'bench/serve-load.ts', out: 'bench/serve-load' },
    ...testEntries('test/unit', 'test/unit'),
    ...testEntries('test/integration', 'test/integration'),
  ].filter((e) => existsSync(e.in)),
  outdir: 'dist',
};

const webviewEntries = existsSync('webview')
  ? readdirSync('webview')
      .filter((f) => /^[a-z-]+\.ts$/.test(f) && !f.endsWith('protocol.ts'))
      .map((f) => ({ in: join('webview', f), out: f.replace(/\.ts$/, '') }))
  : [];
const web = {
  ...common,
  platform: 'browser',
  target: 'es2022',
  format: 'iife',
  external: [],
  entryPoints: webviewEntries,
  outdir: 'media/webview',
};

// tfjs-backend-wasm loads its .wasm binaries at run time; ship them beside the bundles that train.
const wasmDir = 'node_modules/@tensorflow/tfjs-backend-wasm/dist';
mkdirSync('dist', { recursive: true });
for (const f of readdirSync(wasmDir).filter((n) => n.endsWith('.wasm'))) copyFileSync(join(wasmDir, f), join('dist', f));

const contexts = [await esbuild.context(node)];
if (webviewEntries.length) contexts.push(await esbuild.context(web));
if (watch) {
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(contexts.map((c) => c.rebuild()));
  await Promise.all(contexts.map((c) => c.dispose()));
}
