import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FileError } from '../core/io/file-error';
import { checkInput } from '../core/io/input-file';
import { assertNotInput, makeDirs } from '../core/io/safe-output';
import { storeFileFor } from '../core/labelling/store';
import { isHubId } from '../core/model/hub';
import { HyperParamError } from '../core/training/hparams';
import { formatPythonReport, probePython } from '../core/training/python-env';
import { RUN_FILES } from '../core/training/run-folder';
import { defaultPython } from '../core/training/torch-trainer';
import { evaluateRun, prepare, train, trainSettings } from '../core/training/train';
import type { EvalResult, Method, TrainBackend, TrainEvent, TrainOptions, TrainSummary } from '../core/training/types';
import { METHODS, METHODS_NEEDING_LABELS, TRAIN_BACKENDS } from '../core/training/types';
import { formatEvalResult, formatTrainEvent, pct } from '../core/training/format';
import { COMMON_FLAGS, DATASET_FLAGS, NO_EDITS_FLAG, QUIET_FLAG, parseFlags, stringFlags } from './args';
import { UsageError } from './errors';
import { checkRunFolder } from './files';
import { printable } from './format';
import { stopOnSignal } from './signals';
import { BACKENDS } from '../core/model/backend';
import type { PresetName } from '../core/model/config';
import { PRESET_NAMES } from '../core/model/config';

/**
 * `rewardlens train` and `rewardlens eval` (docs/training-ui.md). Training runs in this process: from the
 * editor's point of view the CLI is already the background process. Ctrl-C stops at the next step; the
 * run folder keeps its checkpoint and the same command resumes it.
 */

export const TRAIN_USAGE = `  rewardlens train FILE --method M --out RUN [--labels STORE] [--preset tiny|small] [--base DIR] [--base-run RUN]
                  [--backend B] [--threads N] [--max-minutes N] [--seed N] [--set KEY=VALUE …] [--json]
  rewardlens prepare FILE --method M --out RUN [the train options]   write the training plan only, for
                  \`python -m rewardlens_trainer RUN\` here or on a GPU machine (docs/torch-trainer.md)
  rewardlens eval RUN TESTFILE [--json]
  rewardlens doctor [--json]     Python, torch, CUDA and GPUs for --backend torch (REWARDLENS_PYTHON, else python3)

Training (docs/training-ui.md; run again with the same options to resume):
  --method M           ${METHODS.join(' | ')}
  --out RUN            run folder (created, or resumed when it holds the same run)
  --labels STORE       capability label store (.labels.jsonl); needed by dmoerm and dmoerm-no-outer
  --preset P           ${PRESET_NAMES.join(' | ')} (default small)
  --base DIR|ORG/NAME  pre-trained base (config.json, model.safetensors, tokenizer.json): a BERT encoder, or a
                       Qwen2/Llama decoder for --backend torch; a folder,
                       or a Hugging Face Hub id, downloaded once into ~/.cache/rewardlens/hub (resumable;
                       HF_ENDPOINT, HF_TOKEN, REWARDLENS_CACHE)
  --test FILE          held-out records from another file: train on all of FILE, evaluate on these
  --base-run RUN       start from the general RM of another run of the same data, preset, base and seed
  --backend B          auto (default) | ${BACKENDS.join(' | ')} | torch (the PyTorch trainer: docs/torch-trainer.md)
  --device D           torch: auto (CUDA when available) | cpu | cuda | cuda:N
  --gpus N             torch: N processes share each token-level step (torchrun; with --device cpu: gloo processes)
  --threads N          threads sharing each training step on wasm (default 2, or 1 on one core; other
                       backends use 1); a run resumes with the same value
  --max-minutes N      wall-clock budget; phases stop early, keeping their best weights
  --seed N             random seed (default 42)
  --set KEY=VALUE      expert setting over the preset's (learning rate, batch size, patience, …); repeatable
  --no-edits           train/eval: ignore the dataset's edits journal (.rewardlens/FILE.edits.jsonl), applied by default
  -q, --quiet          no progress lines on stderr`;

/** A problem the user can fix; main prints it as one line and exits 2. */
export class TrainUsageError extends UsageError {}

const DEFAULT_SEED = 42;

const trainFlags = {
  ...stringFlags('method', 'out', 'labels', 'preset', 'base', 'test', 'base-run', 'backend', 'device', 'gpus', 'threads', 'max-minutes', 'seed'),
  set: { type: 'string', multiple: true },
  ...NO_EDITS_FLAG,
  ...DATASET_FLAGS,
  ...QUIET_FLAG,
  ...COMMON_FLAGS,
} as const;

const evalFlags = { ...NO_EDITS_FLAG, ...DATASET_FLAGS, ...COMMON_FLAGS } as const;

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new TrainUsageError(`--${flag} must be one of ${allowed.join(', ')}, not "${value}"`);
}

function numberFlag(flag: string, raw: string | undefined, check: (n: number) => boolean, what: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || !check(n)) throw new TrainUsageError(`--${flag} must be ${what}, not "${raw}"`);
  return n;
}

/** Where a run is written: a folder or nothing yet, and none of the run's inputs. */
function checkRunOut(out: string, inputs: readonly (string | undefined)[]): void {
  let isDir: boolean | undefined;
  try {
    isDir = statSync(out).isDirectory();
  } catch {
    // not there yet (or unreachable): creating it says why it cannot be made
  }
  if (isDir === false) throw new FileError(out, 'is a file, not a run folder');
  assertNotInput(out, inputs);
}

/** `--set lr=2e-5` → `{lr: 0.00002}`; `true`/`false` are booleans, numbers numbers, the rest text. */
export function parseOverrides(pairs: readonly string[]): Record<string, number | string | boolean> {
  const out: Record<string, number | string | boolean> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq).trim();
    if (!/^[A-Za-z][\w.-]*$/.test(key)) throw new TrainUsageError(`--set takes KEY=VALUE (e.g. --set learningRate=2e-5), not "${pair}"`);
    const raw = pair.slice(eq + 1).trim();
    out[key] = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}

/** The TrainOptions of `rewardlens train …` (and whether to print JSON); throws TrainUsageError with what to fix. */
export function parseTrainArgs(argv: string[]): { help: true } | { help: false; options: TrainOptions; json: boolean; quiet: boolean } {
  const { values, positionals } = parseFlags(argv, trainFlags);
  if (values.help) return { help: true };
  if (positionals.length !== 1) throw new TrainUsageError(`give one training dataset FILE (usage: rewardlens train FILE --method M --out RUN)`);
  const dataset = positionals[0];
  checkInput(dataset);
  if (values.method === undefined) throw new TrainUsageError(`train needs --method (${METHODS.join(', ')})`);
  const method = oneOf<Method>('method', values.method, METHODS);
  if (values.out === undefined || values.out.trim() === '')
    throw new TrainUsageError('train needs --out RUN (the run folder; the same folder resumes an interrupted run)');
  if (values.labels === undefined && METHODS_NEEDING_LABELS.includes(method)) {
    const beside = storeFileFor(dataset);
    const hint = existsSync(beside)
      ? ` (the store beside the dataset is ${beside})`
      : ' (make one with `rewardlens label` or `rewardlens labels-from-ratings`)';
    throw new TrainUsageError(`--method ${method} needs --labels STORE, the capability label store${hint}`);
  }
  if (values.labels !== undefined) checkInput(values.labels);
  // A Hub id (org/name) is downloaded into the cache when the run starts (src/core/model/hub.ts).
  if (values.base !== undefined && !isHubId(values.base)) checkInput(values.base, 'directory');
  if (values['base-run'] !== undefined) checkRunFolder(values['base-run']);
  if (values.schema !== undefined) checkInput(values.schema);
  if (values.test !== undefined) checkInput(values.test);
  checkRunOut(values.out, [dataset, values.test, values.labels, values.base, values['base-run'], values.schema]);
  const threads = numberFlag('threads', values.threads, (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1');
  const overrides = { ...(values.set?.length ? parseOverrides(values.set) : {}), ...(threads === undefined ? {} : { threads }) };
  const preset = values.preset === undefined ? 'small' : oneOf<PresetName>('preset', values.preset, PRESET_NAMES);
  const options: TrainOptions = {
    dataset,
    testFile: values.test,
    method,
    out: values.out,
    labels: values.labels,
    preset,
    base: values.base,
    baseRun: values['base-run'],
    backend: values.backend === undefined ? 'auto' : oneOf<TrainBackend>('backend', values.backend, TRAIN_BACKENDS),
    device: values.device,
    gpus: numberFlag('gpus', values.gpus, (n) => Number.isInteger(n) && n >= 1 && n <= 64, 'a whole number from 1 to 64'),
    maxMinutes: numberFlag('max-minutes', values['max-minutes'], (n) => n > 0, 'a positive number of minutes'),
    seed: numberFlag('seed', values.seed, (n) => Number.isInteger(n) && n >= 0, 'a whole number ≥ 0') ?? DEFAULT_SEED,
    schemaFile: values.schema,
    adapter: values.adapter,
    overrides: Object.keys(overrides).length ? overrides : undefined,
    noEdits: values['no-edits'] || undefined,
  };
  // Absent keys, not `undefined` ones: the options are stored in run.json and compared on resume.
  for (const key of Object.keys(options) as (keyof TrainOptions)[]) if (options[key] === undefined) delete options[key];
  if ((values.device !== undefined || values.gpus !== undefined) && values.backend !== 'torch')
    throw new TrainUsageError('--device and --gpus are for --backend torch (the PyTorch trainer)');
  return { options, json: values.json, quiet: values.quiet, help: false };
}

export function parseEvalArgs(
  argv: string[],
): { help: true } | { help: false; run: string; testFile: string; schemaFile?: string; adapter?: string; json: boolean; noEdits?: boolean } {
  const { values, positionals } = parseFlags(argv, evalFlags);
  if (values.help) return { help: true };
  if (positionals.length !== 2) throw new TrainUsageError('usage: rewardlens eval RUN TESTFILE');
  const [run, testFile] = positionals;
  checkRunFolder(run);
  checkInput(testFile);
  if (values.schema !== undefined) checkInput(values.schema);
  // The result is kept in the run folder.
  assertNotInput(join(run, RUN_FILES.testEvals), [testFile, values.schema]);
  return {
    run,
    testFile,
    schemaFile: values.schema,
    adapter: values.adapter,
    json: values.json,
    ...(values['no-edits'] ? { noEdits: true } : {}),
    help: false,
  };
}

function formatSummary(s: TrainSummary, stopped: boolean): string {
  const state = stopped ? 'stopped; resume with the same command' : s.truncated ? 'finished early (time budget)' : 'finished';
  return `${s.out}: ${s.method} ${state} in ${Math.round(s.seconds)} s on ${s.device ?? s.backend}${s.evaluation ? `; held-out accuracy ${pct(s.evaluation.overall)} (${s.evaluation.pairs} pairs)` : ''}`;
}

/** Progress on stderr: one line rewritten on a terminal (other events on lines of their own), a progress line every 5 s otherwise. */
function printer(quiet: boolean): (e: TrainEvent) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  let open = false;
  return (e) => {
    if (quiet) return;
    const raw = formatTrainEvent(e);
    if (raw === undefined) return;
    const line = printable(raw);
    if (e.type !== 'progress') {
      process.stderr.write(`${open ? '\n' : ''}${line}\n`);
      open = false;
      return;
    }
    const now = Date.now();
    if (now - last < (tty ? 200 : 5000) && e.step < e.totalSteps) return;
    last = now;
    if (tty) {
      process.stderr.write(`\r${line}\x1b[K`);
      open = true;
    } else process.stderr.write(`${line}\n`);
  };
}

/** Ctrl-C (and SIGTERM) stop at the next step, or within seconds (signals.ts); the last checkpoint is kept. */
function abortOnSignal(controller: AbortController, quiet: boolean): () => void {
  return stopOnSignal(controller, () => {
    if (!quiet) process.stderr.write('\nstopping at the next step (the last checkpoint is kept; Ctrl-C again to quit at once)\n');
  });
}

/** `rewardlens train FILE …`; returns the exit code (130 when stopped with Ctrl-C, resumable). */
export async function trainCommand(argv: string[]): Promise<number> {
  const args = parseTrainArgs(argv);
  if (args.help) {
    console.log(`Usage:\n${TRAIN_USAGE}`);
    return 0;
  }
  const { options, json } = args;
  // --json: stdout carries the summary only, and stderr stays quiet too.
  const quiet = args.quiet || json;
  // Settings first (nothing is made for a bad one), then, before the backend loads (seconds), the folder:
  // one that cannot be made is the first thing to hear of.
  try {
    trainSettings(options);
  } catch (e) {
    throw e instanceof HyperParamError ? new TrainUsageError(e.message) : e;
  }
  makeDirs(options.out);
  const controller = new AbortController();
  const cleanup = abortOnSignal(controller, quiet);
  let summary: TrainSummary;
  try {
    summary = await train(options, { signal: controller.signal, onEvent: printer(quiet) });
  } catch (e) {
    // The recipe may end a cancelled run by throwing; after Ctrl-C that is the expected way out.
    if (!controller.signal.aborted) throw e;
    if (!args.quiet) process.stderr.write(`${options.out}: stopped; resume with the same command\n`);
    return 130;
  } finally {
    cleanup();
  }
  const stopped = controller.signal.aborted;
  if (!args.quiet && (!json || stopped)) process.stderr.write(`${printable(formatSummary(summary, stopped))}\n`);
  if (json) console.log(JSON.stringify(summary));
  return stopped ? 130 : 0;
}

/** `rewardlens eval RUN TESTFILE`. */
export async function evalCommand(argv: string[]): Promise<number> {
  const args = parseEvalArgs(argv);
  if (args.help) {
    console.log(`Usage:\n${TRAIN_USAGE}`);
    return 0;
  }
  const controller = new AbortController();
  const cleanup = abortOnSignal(controller, args.json);
  let result: EvalResult;
  try {
    result = await evaluateRun(args.run, args.testFile, {
      signal: controller.signal,
      schemaFile: args.schemaFile,
      adapter: args.adapter,
      noEdits: args.noEdits,
      onEvent: printer(args.json),
    });
  } finally {
    cleanup();
  }
  if (controller.signal.aborted) return 130;
  console.log(args.json ? JSON.stringify(result) : printable(formatEvalResult(result)));
  return 0;
}

/** `rewardlens prepare FILE …`: the run folder with its training plan, for the PyTorch trainer. */
export async function prepareCommand(argv: string[]): Promise<number> {
  const args = parseTrainArgs(argv);
  if (args.help) {
    console.log(`Usage:\n${TRAIN_USAGE}`);
    return 0;
  }
  const plan = await prepare(args.options, { onEvent: printer(args.quiet || args.json) });
  const out = args.options.out;
  const base = plan.baseWeights ? { base: plan.baseWeights.folder } : {};
  if (args.json)
    console.log(
      JSON.stringify({
        out,
        method: plan.method,
        ...base,
        components: plan.components.map((c) => ({ name: c.name, phase: c.phase, trainExamples: c.trainExamples, valExamples: c.valExamples })),
      }),
    );
  else {
    console.log(
      printable(
        `${out}: training plan with ${plan.components.length} components (${plan.components.map((c) => c.name).join(', ')}); train it with: python -m rewardlens_trainer ${out}`,
      ),
    );
    if (plan.baseWeights)
      console.log(printable(`the trainer reads the base from ${plan.baseWeights.folder}; on another machine copy it along and add --base DIR`));
  }
  return 0;
}

/** `rewardlens doctor`: whether --backend torch can train here, and on what. Exit 0 when ready, 2 when not (the user's to fix). */
export async function doctorCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: COMMON_FLAGS });
  if (values.help) {
    console.log(`Usage:\n${TRAIN_USAGE}`);
    return 0;
  }
  const report = await probePython(defaultPython());
  console.log(values.json ? JSON.stringify(report) : formatPythonReport(report));
  return report.ready ? 0 : 2;
}
