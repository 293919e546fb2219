import * as path from 'node:path';
import * as vscode from 'vscode';
import { RUN_FILES } from '../../core/training/run-folder';
import type { EvalResult, TrainEvent, TrainOptions, TrainSummary } from '../../core/training/types';
import type { TrainingProcess } from '../../worker/train-client';
import { startEvaluation, startTraining } from '../../worker/train-client';
import { formatTrainEvent } from '../../core/training/format';

/** A process running now on a run folder. */
export interface RunningJob {
  kind: 'train' | 'evaluate';
  process: Pick<TrainingProcess<unknown>, 'pid' | 'cancel' | 'kill'>;
  /** The latest progress event (the runs view shows it). */
  progress?: Extract<TrainEvent, { type: 'progress' }>;
  /** Where it computes, from its backend event: `cuda:0 · bf16 · NVIDIA H200`, `wasm`, … */
  where?: string;
}

/**
 * What the training commands, the runs view and the chart share for the extension's lifetime: the
 * worker processes running now (one per run folder), the runs started this session (wherever they
 * are), and events as they arrive. Disposing cancels the processes: the recipe stops at its next step
 * and the run folder stays resumable (a worker whose parent is gone stops by itself as well).
 */
export class Training implements vscode.Disposable {
  private readonly running = new Map<string, RunningJob>();
  /** Run folders started in this window, listed by the runs view even outside the workspace. */
  readonly sessionRuns = new Set<string>();
  private readonly changed = new vscode.EventEmitter<string>();
  private readonly evented = new vscode.EventEmitter<{ run: string; event: TrainEvent }>();
  /** A run started, stopped or changed state (its folder; '' for all). */
  readonly onDidChange = this.changed.event;
  /** An event of a running worker. */
  readonly onDidEvent = this.evented.event;

  constructor(
    private readonly extCtx: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  /** Where "Install GPU/Native Training Backend" puts @tensorflow/tfjs-node(-gpu): `<globalStorage>/native`. */
  get nativeFolder(): string {
    return path.join(this.extCtx.globalStorageUri.fsPath, 'native');
  }

  private get workerScript(): string {
    return vscode.Uri.joinPath(this.extCtx.extensionUri, 'dist', 'train-worker.js').fsPath;
  }

  isRunning(run: string): boolean {
    return this.running.has(path.resolve(run));
  }

  job(run: string): RunningJob | undefined {
    return this.running.get(path.resolve(run));
  }

  /** Trains (or resumes) `options.out` in a worker; throws when a process already runs on that folder. */
  train(options: TrainOptions): TrainingProcess<TrainSummary> {
    const run = path.resolve(options.out);
    return this.launch(run, 'train', (spawn) => startTraining({ ...options, out: run }, [this.nativeFolder], spawn));
  }

  evaluate(run: string, testFile: string, options: { noEdits?: boolean } = {}): TrainingProcess<EvalResult> {
    const dir = path.resolve(run);
    return this.launch(dir, 'evaluate', (spawn) =>
      startEvaluation({ run: dir, testFile, nativeModulePaths: [this.nativeFolder], ...(options.noEdits ? { noEdits: true } : {}) }, spawn),
    );
  }

  /** Tells the runs view to look again (the Refresh button). */
  requestRefresh(): void {
    this.changed.fire('');
  }

  /** Asks the process on `run` to stop at its next step. */
  cancel(run: string): boolean {
    const job = this.job(run);
    job?.process.cancel();
    return job !== undefined;
  }

  private launch<T extends TrainSummary | EvalResult>(
    run: string,
    kind: RunningJob['kind'],
    start: (spawn: Parameters<typeof startTraining>[2]) => TrainingProcess<T>,
  ): TrainingProcess<T> {
    if (this.running.has(run)) throw new Error(`a training process is already running on ${path.basename(run)}`);
    // Events arrive only after fork returns, by when `job` is set.
    let job: RunningJob | undefined;
    const process = start({
      workerScript: this.workerScript,
      logFile: path.join(run, RUN_FILES.log),
      onOutput: (text) => {
        for (const line of text.split('\n')) if (line.trim() !== '') this.log.info(`[${path.basename(run)}] ${line}`);
      },
      onEvent: (event) => {
        if (event.type === 'progress' && job !== undefined) job.progress = event;
        if (event.type === 'backend' && job !== undefined) job.where = event.backend === 'torch' ? `PyTorch ${event.tfBackend}` : event.backend;
        const line = formatTrainEvent(event);
        // Every step would flood the channel: steps with a validation accuracy are the ones worth a line.
        if (line !== undefined && (event.type !== 'progress' || event.valAcc !== undefined)) {
          if (event.type === 'log' && event.level === 'warn') this.log.warn(`[${path.basename(run)}] ${line}`);
          else this.log.info(`[${path.basename(run)}] ${line}`);
        }
        this.evented.fire({ run, event });
      },
    });
    const started: RunningJob = (job = { kind, process });
    this.running.set(run, started);
    this.sessionRuns.add(run);
    this.changed.fire(run);
    const end = (): void => {
      if (this.running.get(run) === started) this.running.delete(run);
      this.changed.fire(run);
    };
    process.done.then(end, end);
    return process;
  }

  dispose(): void {
    for (const job of this.running.values()) job.process.cancel();
    this.running.clear();
    this.changed.dispose();
    this.evented.dispose();
  }
}
