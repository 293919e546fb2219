/**
 * What a Python interpreter offers the PyTorch trainer: its version, torch and the other requirements, CUDA
 * and the GPUs torch sees (`python -m rewardlens_trainer.doctor`). `rewardlens doctor` prints it; the editor
 * asks it to decide whether PyTorch training is set up.
 */
import { execFile } from 'node:child_process';
import { trainerPackageDir } from './torch-trainer';
import { delimiter } from 'node:path';

export interface PythonReport {
  python: string;
  pythonVersion?: string;
  torch?: string;
  transformers?: string;
  peft?: string;
  safetensors?: string;
  /** Requirements that do not import, with why in `errors`. */
  missing: string[];
  errors: Record<string, string>;
  threads?: number;
  cuda?: string | null;
  cudaAvailable?: boolean;
  devices?: Array<{ index: number; name: string; memoryGiB: number; capability: string; bf16: boolean }>;
  /** Everything the trainer imports is there. */
  ready: boolean;
  /** The interpreter did not run at all. */
  error?: string;
}

/** Asks `python` (a command or a path); never rejects: a Python that cannot run is a report with `error`. */
export function probePython(python: string, timeoutMs = 120_000): Promise<PythonReport> {
  const env = { ...process.env, PYTHONPATH: [trainerPackageDir(), process.env.PYTHONPATH].filter(Boolean).join(delimiter) };
  return new Promise((resolve) => {
    execFile(python, ['-m', 'rewardlens_trainer.doctor'], { env, timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        if (line.startsWith('{')) return resolve(JSON.parse(line) as PythonReport);
      } catch {
        // fall through: not the doctor's output
      }
      const code = (err as NodeJS.ErrnoException | null)?.code;
      const why = !err
        ? 'no report (is it a Python interpreter?)'
        : code === 'ENOENT'
          ? 'not found'
          : code === 'EACCES'
            ? 'not executable (give the path of a Python interpreter)'
            : stderr.trim().split('\n').pop() || err.message;
      resolve({ python, missing: [], errors: {}, ready: false, error: why });
    });
  });
}

/** An interpreter to try, and where it came from (for messages). */
export interface PythonCandidate {
  python: string;
  source: string;
}

/**
 * The first candidate that can run the trainer, in order, or every report when none can (the caller says
 * what was tried). Candidates after a ready one are not started.
 */
export async function firstReadyPython(
  candidates: PythonCandidate[],
  probe: (python: string) => Promise<PythonReport> = probePython,
): Promise<{ ready?: PythonCandidate & { report: PythonReport }; tried: Array<PythonCandidate & { report: PythonReport }> }> {
  const tried: Array<PythonCandidate & { report: PythonReport }> = [];
  for (const c of candidates) {
    const report = await probe(c.python);
    tried.push({ ...c, report });
    if (report.ready) return { ready: tried[tried.length - 1], tried };
  }
  return { tried };
}

/** One paragraph for a terminal. */
export function formatPythonReport(r: PythonReport): string {
  if (r.error) return `python: ${r.python}: ${r.error}\nPyTorch training: not available (set REWARDLENS_PYTHON to a Python with trainer/requirements.txt)`;
  const lines = [`python: ${r.python} (${r.pythonVersion})`];
  for (const name of ['torch', 'transformers', 'peft', 'safetensors'] as const) lines.push(`${name}: ${r[name] ?? `missing — ${r.errors[name] ?? ''}`}`);
  if (r.torch) {
    lines.push(
      `CUDA: ${r.cudaAvailable ? `${r.cuda}` : `not available${r.cuda ? ` (torch built for CUDA ${r.cuda}; no GPU or driver seen)` : ' (CPU build)'}`}`,
    );
    for (const d of r.devices ?? []) lines.push(`  cuda:${d.index}: ${d.name}, ${d.memoryGiB} GiB, compute ${d.capability}${d.bf16 ? ', bf16' : ''}`);
    lines.push(`CPU threads: ${r.threads}`);
  }
  lines.push(
    `PyTorch training: ${r.ready ? `ready (${r.cudaAvailable ? `cuda:0${r.devices?.[0]?.bf16 ? ' · bf16' : ' · fp32'}` : 'cpu · fp32'})` : `not ready: pip install -r trainer/requirements.txt (missing ${r.missing.join(', ')})`}`,
  );
  return lines.join('\n');
}
