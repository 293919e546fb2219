/**
 * Runs the PyTorch trainer (trainer/ in this repository, `python -m rewardlens_trainer RUN`) on a run folder
 * that holds a training plan, and relays what it reports: it speaks the worker protocol's messages
 * (src/worker/train-protocol.ts) as JSON lines on stdout, so the CLI and the editor show its progress as
 * they show the TensorFlow.js worker's.
 */
import { spawn } from 'node:child_process';
import { FileError } from '../io/file-error';
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { TrainEvent, TrainSummary } from './types';
import { CancelledError } from '../cancelled';
import { TRAINING_CANCELLED } from './recipe';
import { RUN_FILES } from './run-folder';

/** The protocol version the trainer must speak (src/worker/train-protocol.ts PROTOCOL_VERSION). */
const TRAINER_PROTOCOL = 1;

export interface TorchTrainerOptions {
  /** Python interpreter with the trainer's requirements (trainer/requirements.txt). */
  python: string;
  /** cpu, cuda, cuda:N or auto (default). */
  device?: string;
  threads?: number;
  /** Processes sharing each token-level step (torchrun): one per GPU, or gloo processes with device cpu. */
  processes?: number;
  /** Pairs per forward/backward pass (default: the whole batch, or each process's share). */
  microBatch?: number;
  maxMinutes?: number;
  signal?: AbortSignal;
  onEvent?: (e: TrainEvent) => void;
  /** Lines the trainer writes to stderr (Python warnings, a traceback). */
  onStderr?: (line: string) => void;
}

/** The folder holding the `rewardlens_trainer` package: trainer/ in the first folder above `from` that has one. */
export function trainerPackageDir(from = __dirname): string {
  for (let d = resolve(from); ; d = dirname(d)) {
    if (existsSync(join(d, 'trainer', 'rewardlens_trainer', '__main__.py'))) return join(d, 'trainer');
    if (d === dirname(d)) throw new Error(`the PyTorch trainer package (trainer/rewardlens_trainer) is not in a folder above ${from}`);
  }
}

/** The interpreter to run the trainer with: REWARDLENS_PYTHON, else python3. */
export function defaultPython(): string {
  return process.env.REWARDLENS_PYTHON || 'python3';
}

/**
 * Trains `runDir`'s plan. Resolves with the trainer's summary; rejects with a CancelledError when `signal`
 * stopped it (SIGTERM: it stops at the next step and keeps its last checkpoint), or an Error carrying the
 * trainer's message and the end of its stderr.
 */
export function runTorchTrainer(runDir: string, options: TorchTrainerOptions): Promise<TrainSummary> {
  const trainer = ['-m', 'rewardlens_trainer', resolve(runDir), '--device', options.device ?? 'auto'];
  const args =
    options.processes && options.processes > 1
      ? ['-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', String(options.processes), ...trainer]
      : trainer;
  if (options.threads) args.push('--threads', String(options.threads));
  if (options.microBatch) args.push('--micro-batch', String(options.microBatch));
  if (options.maxMinutes) args.push('--max-minutes', String(options.maxMinutes));
  const pkg = trainerPackageDir();
  const env: NodeJS.ProcessEnv = { ...process.env, PYTHONPATH: [pkg, process.env.PYTHONPATH].filter(Boolean).join(delimiter), PYTHONUNBUFFERED: '1' };
  // The run folder's lock, when this process holds it (train() does): the trainer leaves it be instead of
  // refusing a folder "in use" by its own parent.
  const owner = lockOwner(join(resolve(runDir), RUN_FILES.lock));
  if (owner?.startsWith(`${process.pid}@`)) env.REWARDLENS_RUN_LOCK = owner;
  return new Promise((resolvePromise, reject) => {
    const child = spawn(options.python, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let summary: TrainSummary | undefined;
    let failure: { message: string; cancelled?: boolean } | undefined;
    const stderrTail: string[] = [];
    const onAbort = (): void => void child.kill('SIGTERM');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    createInterface({ input: child.stderr }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
      options.onStderr?.(line);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      let m: { type?: string; version?: number; event?: TrainEvent; summary?: TrainSummary; message?: string; cancelled?: boolean };
      try {
        m = JSON.parse(line) as typeof m;
      } catch {
        options.onStderr?.(line); // a print() that is not a message
        return;
      }
      if (m.type === 'ready' && m.version !== TRAINER_PROTOCOL) {
        failure = {
          message: `the PyTorch trainer speaks protocol version ${m.version}, this build version ${TRAINER_PROTOCOL}: update trainer/ with RewardLens`,
        };
        child.kill('SIGTERM');
      } else if (m.type === 'event' && m.event) options.onEvent?.(m.event);
      else if (m.type === 'done' && m.summary) summary = m.summary;
      else if (m.type === 'error') failure = { message: m.message ?? 'the trainer failed', cancelled: m.cancelled };
    });
    child.on('error', (e) => {
      options.signal?.removeEventListener('abort', onAbort);
      reject(
        new Error(
          `cannot start ${options.python} (${e.message}): set REWARDLENS_PYTHON or rewardlens.python to a Python with trainer/requirements.txt installed`,
        ),
      );
    });
    child.on('close', (code, sig) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (summary && code === 0) return resolvePromise(summary);
      if (failure?.cancelled || options.signal?.aborted) return reject(new CancelledError(TRAINING_CANCELLED));
      const tail = stderrTail.slice(-8).join('\n');
      const missing = /No module named '?(torch|transformers|peft|safetensors)/.exec(tail);
      if (missing)
        return reject(
          new FileError(
            options.python,
            `has no ${missing[1]}: install the trainer's requirements (pip install -r trainer/requirements.txt) or point REWARDLENS_PYTHON at a Python that has them`,
          ),
        );
      reject(new Error(`${failure?.message ?? `the PyTorch trainer exited with ${code ?? sig}`}${tail && !failure ? `\n${tail}` : ''}`));
    });
  });
}

function lockOwner(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}
