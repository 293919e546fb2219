// Rebuilds models/demo/ (the demo reward model the quick start scores with) from ../shared/data:
//   node scripts/build.mjs && node scripts/demo-model.mjs [--seed 1] [--shared DIR]
// See models/demo/MODEL_CARD.md. Takes 5–15 minutes on two cores.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const out = join('.test-tmp', 'demo-model', 'build-demo.js');
await esbuild.build({
  entryPoints: ['scripts/demo/build-demo.ts'],
  outfile: out,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
  mainFields: ['module', 'main'],
  external: ['vscode', 'onnxruntime-node', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'],
  // __dirname of the bundle must be the script's, for paths relative to the repository.
  define: { __dirname: JSON.stringify(join(process.cwd(), 'scripts', 'demo')) },
});
const r = spawnSync(process.execPath, [out, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
