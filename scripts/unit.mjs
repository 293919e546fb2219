// Bundles and runs only the given unit test files (`node scripts/unit.mjs test/unit/model/lora.test.ts …`),
// so work on one module does not wait on, or break on, the rest of the tree.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { basename, join } from 'node:path';

const files = process.argv.slice(2);
if (!files.length) {
  console.error('usage: node scripts/unit.mjs TEST.ts…');
  process.exit(2);
}
const outdir = join('.test-tmp', 'unit');
const outs = files.map((f) => join(outdir, basename(f).replace(/\.ts$/, '.js')));
await esbuild.build({
  entryPoints: files.map((f, i) => ({ in: f, out: basename(outs[i], '.js') })),
  outdir,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  mainFields: ['module', 'main'],
  external: ['vscode', 'onnxruntime-node', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
});
const r = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-reporter=spec', ...outs], { stdio: 'inherit' });
process.exit(r.status ?? 1);
