/**
 * Rebuilds the demo model in models/demo/ from ../shared/data (see its MODEL_CARD.md), through the same
 * CLI a user runs: labels-from-ratings → train (dmoerm, tiny) → eval on the held-out prompts → export.
 *
 *   node scripts/demo-model.mjs [--shared ../shared/data] [--seed 1]
 *
 * No time budget: a budget cuts phases wherever the machine's speed puts the deadline, and the demo
 * should come out the same on every machine for the same seed and backend.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { EvalResult } from '../../src/core/training/types';
import { writeDemoData } from './demo-data';

const ROOT = resolve(__dirname, '..', '..');
const { values } = parseArgs({
  options: {
    shared: { type: 'string', default: resolve(ROOT, '..', 'shared', 'data') },
    seed: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
    // Rewrites MODEL_CARD.md from the last build's folder (after editing the template).
    'card-only': { type: 'boolean', default: false },
  },
});

/**
 * The tiny preset's step caps stop its general RM while validation accuracy still rises on ~2k pairs
 * (first build: "max-steps after 200 steps"); early stopping decides within the larger caps.
 */
const SETTINGS = ['maxSteps.base=1000', 'maxSteps.phase1=300', 'maxSteps.phase2=200', 'patience=6'];

const DEMO = join(ROOT, 'models', 'demo');
const WORK = join(ROOT, '.test-tmp', 'demo-model');
const RUN = join(WORK, 'run');
const RUN_SINGLE = join(WORK, 'run-single');
/** The runs the quick start's Training Runs view and evaluation report show (the sample folder's runs). */
const SHIPPED_RUNS = join(ROOT, 'test', 'fixtures', 'samples', '.rewardlens', 'runs');
/** What a run folder needs for the runs view, the chart and the evaluation report: no checkpoints (megabytes), no log. */
const SHIPPED_FILES = ['run.json', 'state.json', 'model.json', 'metrics.jsonl', 'eval.json', 'test-evals.json', 'MODEL_CARD.md'];
const CLI = join(ROOT, 'dist', 'cli.js');
const TEST_FILE = join(ROOT, 'test', 'fixtures', 'samples', 'demo.test.jsonl');
const POINTS = join(DEMO, 'points.jsonc');

function cli(args: string[]): string {
  console.log(`$ rewardlens ${args.map((a) => (a.startsWith(ROOT) ? relative(ROOT, a) : a)).join(' ')}`);
  return execFileSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
}

function percent(accuracy: number | null, pairs: number): string {
  return accuracy === null ? 'no pairs' : `${(100 * accuracy).toFixed(1)}% (${pairs} pairs)`;
}

type Counts = Awaited<ReturnType<typeof writeDemoData>>;

async function buildModel(): Promise<void> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run node scripts/build.mjs first`);
  if (!existsSync(values.shared)) throw new Error(`${values.shared}: the shared datasets are needed to rebuild the demo model`);
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const train = join(WORK, 'demo.train.jsonl');
  const counts = await writeDemoData(values.shared, train, TEST_FILE);
  writeFileSync(join(WORK, 'counts.json'), JSON.stringify(counts));
  console.log(`demo data: ${counts.train} train, ${counts.test} test records; ${JSON.stringify(counts.byCategory)}`);

  const store = join(WORK, 'labels');
  cli(['labels-from-ratings', train, '--source', 'human-feedback', '--points', POINTS, '--store', store, '--json']);
  const labels = join(store, 'demo.train.jsonl.labels.jsonl');
  cli([
    'train',
    train,
    '--method',
    'dmoerm',
    '--out',
    RUN,
    '--labels',
    labels,
    '--preset',
    'tiny',
    '--seed',
    values.seed,
    ...SETTINGS.flatMap((x) => ['--set', x]),
  ]);
  const evaluation = JSON.parse(cli(['eval', RUN, TEST_FILE, '--json'])) as EvalResult;
  // The paper's Single RM is the general RM DMoERM starts from: the same component, nothing to train.
  cli([
    'train',
    train,
    '--method',
    'single',
    '--out',
    RUN_SINGLE,
    '--base-run',
    RUN,
    '--preset',
    'tiny',
    '--seed',
    values.seed,
    ...SETTINGS.flatMap((x) => ['--set', x]),
  ]);
  cli(['eval', RUN_SINGLE, TEST_FILE, '--json']);
  shipRun(RUN, 'demo-dmoerm');
  shipRun(RUN_SINGLE, 'demo-single');
  writeFileSync(join(DEMO, 'eval.json'), JSON.stringify(evaluation, null, 2) + '\n');
  cli(['export', RUN, '--out', join(DEMO, 'model.onnx'), '--points', POINTS, '--json']);
  // What the editor will show: onnxruntime's scores of the test file (the summary only).
  const scored = JSON.parse(cli(['score', join(DEMO, 'model.onnx'), TEST_FILE, '--json'])) as { summary: EvalResult };
  writeFileSync(join(WORK, 'ort-summary.json'), JSON.stringify(scored.summary));
  // The manifest names the run and dataset by absolute path: meaningless (and private) in a shipped model.
  const manifestFile = join(DEMO, 'model.manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { training: { run: string; dataset: string } };
  manifest.training.run = 'built by scripts/demo-model.mjs (run folder not shipped)';
  manifest.training.dataset = 'demo.train.jsonl, written by scripts/demo/demo-data.ts from ../shared/data';
  writeFileSync(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
}

/** A run's small files into the sample folder, with this machine's paths replaced by what they were. */
function shipRun(run: string, name: string): void {
  const to = join(SHIPPED_RUNS, name);
  rmSync(to, { recursive: true, force: true });
  mkdirSync(to, { recursive: true });
  for (const f of SHIPPED_FILES) {
    if (!existsSync(join(run, f))) continue;
    const text = readFileSync(join(run, f), 'utf8')
      .replaceAll(`${dirname(TEST_FILE)}/`, '')
      .replaceAll(WORK, '(build folder)');
    writeFileSync(join(to, f), text);
  }
}

/** MODEL_CARD.md from the template, the held-out evaluation and the run's own card. */
function writeCard(): void {
  const counts = JSON.parse(readFileSync(join(WORK, 'counts.json'), 'utf8')) as Counts;
  const evaluation = JSON.parse(readFileSync(join(DEMO, 'eval.json'), 'utf8')) as EvalResult;
  // The run's eval.json lists its evaluations, the trainer's held-out part first.
  const [runEvaluation] = JSON.parse(readFileSync(join(RUN, 'eval.json'), 'utf8')) as EvalResult[];
  const single = (JSON.parse(readFileSync(join(RUN_SINGLE, 'test-evals.json'), 'utf8')) as Array<{ result: EvalResult }>)[0].result;
  const ort = JSON.parse(readFileSync(join(WORK, 'ort-summary.json'), 'utf8')) as EvalResult;
  const table = [
    '| category | DMoERM (this model) | Single RM (its general RM alone) |',
    '|---|---|---|',
    ...Object.entries(evaluation.byCategory).map(
      ([c, r]) => `| ${c} | ${percent(r.accuracy, r.pairs)} | ${percent(single.byCategory[c]?.accuracy ?? null, single.byCategory[c]?.pairs ?? 0)} |`,
    ),
    `| **overall** | **${percent(evaluation.overall, evaluation.pairs)}** | ${percent(single.overall, single.pairs)} |`,
  ].join('\n');
  const card = readFileSync(join(__dirname, 'MODEL_CARD.template.md'), 'utf8')
    .replace(
      '{{counts}}',
      `${counts.train} training and ${counts.test} held-out records (${Object.entries(counts.byCategory)
        .map(([c, n]) => `${c} ${n}`)
        .join(', ')})`,
    )
    .replace('{{evaluation}}', table)
    .replace('{{internal}}', percent(runEvaluation.overall, runEvaluation.pairs))
    .replace('{{ort}}', percent(ort.overall, ort.pairs))
    // The run's own card, two heading levels down, with the build folder instead of this machine's paths.
    .replace(
      '{{run card}}',
      readFileSync(join(RUN, 'MODEL_CARD.md'), 'utf8')
        .replace(/^(#+) /gm, '$1## ')
        .replaceAll(WORK, '(build folder)'),
    );
  writeFileSync(join(DEMO, 'MODEL_CARD.md'), card);
  console.log(`demo model written to ${relative(ROOT, DEMO)}; held-out accuracy ${percent(evaluation.overall, evaluation.pairs)}`);
}

async function main(): Promise<void> {
  if (!values['card-only']) await buildModel();
  writeCard();
  if (!values.keep) rmSync(join(RUN, 'checkpoints'), { recursive: true, force: true });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
