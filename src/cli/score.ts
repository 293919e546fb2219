import { checkInput } from '../core/io/input-file';
import type { FileScore } from '../core/scoring/score-file';
import { scoreFile } from '../core/scoring/score-file';
import { agreementProvenance } from '../core/scoring/engines';
import { formatEvalResult } from '../core/training/format';
import { COMMON_FLAGS, DATASET_FLAGS, parseFlags, stringFlags } from './args';
import { EXPORT_USAGE, OnnxUsageError } from './export';
import { printable } from './format';
import { stopOnSignal } from './signals';

/** `rewardlens score MODEL FILE` (docs/onnx-export.md): an exported model scores every record of a file. */

const scoreFlags = {
  ...stringFlags('threads', 'batch'),
  ...DATASET_FLAGS,
  ...COMMON_FLAGS,
} as const;

export interface ScoreArgs {
  help: false;
  model: string;
  file: string;
  json: boolean;
  threads?: number;
  batch?: number;
  schemaFile?: string;
  adapter?: string;
}

/**
 * The flags' ceilings: past them only memory grows (a batch holds its sequences' tensors, a thread its
 * buffers), and a typo like `--batch 100000000` should be an error, not an out-of-memory abort.
 */
const MAX_THREADS = 256;
const MAX_BATCH = 4096;

function positiveInt(flag: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < min || n > max)
    throw new OnnxUsageError(`--${flag} must be an integer from ${min} to ${max}, not "${raw}"`);
  return n;
}

export function parseScoreArgs(argv: string[]): { help: true } | ScoreArgs {
  const { values, positionals } = parseFlags(argv, scoreFlags);
  if (values.help) return { help: true };
  if (positionals.length !== 2) throw new OnnxUsageError('usage: rewardlens score MODEL.onnx FILE');
  const [model, file] = positionals;
  checkInput(model);
  checkInput(file);
  if (values.schema !== undefined) checkInput(values.schema);
  return {
    help: false,
    model,
    file,
    json: values.json,
    threads: positiveInt('threads', values.threads, 1, MAX_THREADS),
    batch: positiveInt('batch', values.batch, 1, MAX_BATCH),
    schemaFile: values.schema,
    adapter: values.adapter,
  };
}

const fixed = (x: number): string => x.toFixed(3);

/** Plain text: one line per record (category, reward logits, agreement), then the eval table. */
export function formatFileScore(s: FileScore): string {
  const lines = s.records.map((r) => {
    const route = r.category !== undefined ? ` → ${r.category}` : '';
    const agree = r.agreement.pairs ? `  ${r.agreement.agree}/${r.agreement.pairs} pairs agree` : '';
    // 1-based, as the editor's "record 1 · line 1" (the JSON keeps the 0-based `index` for scripts).
    return `#${r.index + 1} ${r.id}${route}: ${r.logits.map(fixed).join(' ')}${agree}`;
  });
  return [
    ...lines,
    '',
    formatEvalResult(s.summary),
    `${s.summary.records} records scored in ${s.summary.seconds.toFixed(1)} s; ${agreementProvenance(
      'onnx',
      s.records.reduce((n, r) => n + r.agreement.agree, 0),
      s.summary.pairs,
    )}`,
    ...(s.malformedNote ? [s.malformedNote] : []),
  ].join('\n');
}

export async function scoreCommand(argv: string[]): Promise<number> {
  const args = parseScoreArgs(argv);
  if (args.help) {
    console.log(`Usage:\n${EXPORT_USAGE}`);
    return 0;
  }
  const controller = new AbortController();
  const cleanup = stopOnSignal(controller);
  try {
    const result = await scoreFile(args.model, args.file, {
      intraOpNumThreads: args.threads,
      batchSize: args.batch,
      schemaFile: args.schemaFile,
      adapter: args.adapter,
      signal: controller.signal,
    });
    console.log(args.json ? JSON.stringify(result) : printable(formatFileScore(result)));
    return 0;
  } catch (e) {
    if (controller.signal.aborted) return 130;
    throw e;
  } finally {
    cleanup();
  }
}
