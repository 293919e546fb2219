// Checks that a packaged .vsix works on its own, outside this checkout: it is unpacked into a temporary
// folder (where no node_modules above can stand in for a missing file) and its own files are run.
//
//   node scripts/check-package.mjs [--vsix FILE] [--keep]
//
// Without --vsix it first packages this machine's target (scripts/package.mjs: production build, vsce).
// Then, with the unpacked extension's dist/ only:
//   1. its file list: the bundles, tfjs's .wasm files, onnxruntime-node and onnxruntime-common, and native
//      binaries for the .vsix's target platform only;
//   2. `cli.js labels-from-ratings` on a synthetic dataset with per-aspect ratings;
//   3. `train-worker.js`, forked as the extension forks it, trains a tiny dmoerm on the wasm backend (a
//      worker that cannot find its .wasm files fails here instead of falling back);
//   4. `cli.js export`, then `cli.js score MODEL FILE --json` through onnxruntime-node: every record gets a
//      finite reward per response and a routed category.
// Takes a minute or two; not part of `npm test`.
import { execFileSync, fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';
import { TARGETS, hostTarget, packageTargets } from './package.mjs';

const ROOT = join(import.meta.dirname, '..');
/** Steps enough for every dmoerm phase to run and export (as test/integration/suite/scoring.test.ts); the scores need not be good. */
const FAST = { 'maxSteps.base': 10, 'maxSteps.router': 10, 'maxSteps.phase1': 5, 'maxSteps.phase2': 5, 'maxSteps.phase3': 5, evalEvery: 5, minPairs: 8 };
const WORKER_TIMEOUT_MS = 300_000;

const { values } = parseArgs({ options: { vsix: { type: 'string' }, keep: { type: 'boolean', default: false } } });

function step(message) {
  console.log(`· ${message}`);
}

function check(ok, message) {
  if (!ok) throw new Error(message);
}

/** A child's environment without the variables that could point it at files outside the .vsix. */
function isolatedEnv() {
  const env = { ...process.env };
  delete env.NODE_PATH;
  delete env.REWARDLENS_WASM_DIR;
  return env;
}

/** Runs one of the unpacked extension's scripts with Node; returns its stdout. */
function runNode(cwd, script, args) {
  return execFileSync(process.execPath, [script, ...args], {
    cwd,
    env: isolatedEnv(),
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 2 ** 20,
  });
}

function listFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => f.split(sep).join('/'));
}

/** The target a .vsix was packaged for (its manifest's TargetPlatform), or 'universal'. */
function vsixTarget(root) {
  const manifest = readFileSync(join(root, 'extension.vsixmanifest'), 'utf8');
  return /TargetPlatform="([^"]+)"/.exec(manifest)?.[1] ?? 'universal';
}

function checkFiles(ext, target) {
  const files = listFiles(ext);
  for (const f of [
    'dist/extension.js',
    'dist/cli.js',
    'dist/train-worker.js',
    'dist/scan-worker.js',
    'dist/tfjs-backend-wasm-simd.wasm',
    'dist/tfjs-backend-wasm.wasm',
    'node_modules/onnxruntime-node/package.json',
    'node_modules/onnxruntime-node/dist/index.js',
    'node_modules/onnxruntime-common/dist/cjs/index.js',
    'node_modules/onnxruntime-common/dist/cjs/package.json',
  ]) {
    check(files.includes(f), `the .vsix lacks ${f}`);
  }
  const bindings = files.filter((f) => f.startsWith('node_modules/onnxruntime-node/bin/') && f.endsWith('/onnxruntime_binding.node'));
  const platforms = bindings.map((f) => f.split('/').slice(-3, -1).join('-')).sort();
  if (target === 'universal')
    check(
      TARGETS.every((t) => platforms.includes(t)),
      `a universal .vsix with binaries for ${platforms.join(', ')} only`,
    );
  else check(platforms.length === 1 && platforms[0] === target, `a ${target} .vsix with binaries for ${platforms.join(', ') || 'no platform'}`);
  const nodeModules = files.filter((f) => f.startsWith('node_modules/'));
  const bytes = nodeModules.reduce((n, f) => n + statSync(join(ext, f)).size, 0);
  step(`${files.length} files; node_modules: ${nodeModules.length} files, ${(bytes / 2 ** 20).toFixed(1)} MiB; binaries for ${platforms.join(', ')}`);
}

/** Bundles the tests' synthetic-dataset writer (test/support/synthetic-prefs.ts) and returns it. */
async function syntheticWriter(dir) {
  const outfile = join(dir, 'synthetic-prefs.cjs');
  await esbuild.build({
    entryPoints: [join(ROOT, 'test', 'support', 'synthetic-prefs.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    mainFields: ['module', 'main'],
    outfile,
    logLevel: 'warning',
  });
  return createRequire(import.meta.url)(outfile);
}

/** Trains through the packaged worker as the extension does (fork, IPC); resolves with its events and summary. */
function trainWithWorker(ext, options) {
  return new Promise((resolve, reject) => {
    const events = [];
    const child = fork(join(ext, 'dist', 'train-worker.js'), [], {
      cwd: ext,
      env: isolatedEnv(),
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the training worker did not finish within ${WORKER_TIMEOUT_MS / 1000} s`));
    }, WORKER_TIMEOUT_MS);
    child.on('message', (msg) => {
      if (msg.type === 'ready') child.send({ type: 'start', version: msg.version, options, nativeModulePaths: [] });
      else if (msg.type === 'event') events.push(msg.event);
      else if (msg.type === 'done') resolve({ events, summary: msg.summary });
      else if (msg.type === 'error') reject(new Error(`training worker: ${msg.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the training worker exited with code ${code} before it was done`));
    });
    child.on('error', reject);
  });
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'rl-check-package-'));
  try {
    let vsix = values.vsix;
    if (vsix === undefined) {
      const target = hostTarget();
      check(target !== undefined, `onnxruntime-node has no binaries for ${process.platform}-${process.arch}`);
      step(`packaging ${target}`);
      execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--production'], { cwd: ROOT, stdio: 'inherit' });
      [vsix] = packageTargets([target], work);
    }
    check(existsSync(vsix), `${vsix}: no such file`);
    step(`${vsix}: ${(statSync(vsix).size / 2 ** 20).toFixed(1)} MiB`);

    const unpacked = join(work, 'unpacked');
    execFileSync('unzip', ['-q', vsix, '-d', unpacked]);
    const ext = join(unpacked, 'extension');
    const target = vsixTarget(unpacked);
    checkFiles(ext, target);
    // The unpacked extension must resolve onnxruntime-node to its own copy, not to one of this checkout.
    const ort = createRequire(join(ext, 'dist', 'cli.js')).resolve('onnxruntime-node');
    check(!relative(ext, ort).startsWith('..'), `onnxruntime-node resolves outside the unpacked extension: ${ort}`);
    if (target !== 'universal' && target !== hostTarget()) {
      step(`a ${target} .vsix cannot run on ${process.platform}-${process.arch}: file list checked, nothing run`);
      return;
    }

    const data = join(work, 'data');
    const { writeSyntheticPreferences } = await syntheticWriter(work);
    const train = join(data, 'train.jsonl');
    const test = join(data, 'test.jsonl');
    mkdirSync(data, { recursive: true });
    writeSyntheticPreferences(train, 80, 21);
    writeSyntheticPreferences(test, 12, 22);
    const cli = join(ext, 'dist', 'cli.js');

    step('labels-from-ratings (dist/cli.js)');
    runNode(data, cli, ['labels-from-ratings', train, '--source', 'judge', '--store', join(data, 'labels')]);
    const labels = join(data, 'labels', 'train.jsonl.labels.jsonl');
    check(existsSync(labels), `labels-from-ratings wrote no ${labels}`);

    step('training a tiny dmoerm on the wasm backend (dist/train-worker.js)');
    const started = Date.now();
    const run = join(data, 'run');
    const { events } = await trainWithWorker(ext, {
      dataset: train,
      labels,
      method: 'dmoerm',
      out: run,
      preset: 'tiny',
      backend: 'wasm',
      seed: 5,
      overrides: FAST,
    });
    const backend = events.find((e) => e.type === 'backend');
    check(backend?.tfBackend === 'wasm', `the worker trained on ${backend?.tfBackend ?? 'no reported backend'}, not wasm`);
    step(`trained in ${((Date.now() - started) / 1000).toFixed(1)} s on ${backend.tfBackend}`);

    step('export (dist/cli.js)');
    const model = join(data, 'model.onnx');
    runNode(data, cli, ['export', run, '--out', model]);

    step('score (dist/cli.js → onnxruntime-node of the .vsix)');
    const scored = JSON.parse(runNode(data, cli, ['score', model, test, '--json']));
    check(scored.records.length === 12, `${scored.records.length} records scored of 12`);
    for (const r of scored.records) {
      check(r.rewards.length === 3 && r.rewards.every(Number.isFinite), `record ${r.index}: rewards ${JSON.stringify(r.rewards)}`);
      check(typeof r.category === 'string', `record ${r.index}: no routed category`);
    }
    step(
      `${scored.records.length} records scored (${scored.method}), agreement ${(scored.summary.overall * 100).toFixed(1)}% on ${scored.summary.pairs} pairs`,
    );
    console.log(`check-package: ${vsix} works`);
  } finally {
    if (values.keep) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`check-package: ${e instanceof Error ? e.message : e}`);
  process.exit(1);
});
