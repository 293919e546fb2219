import { basename } from 'node:path';
import { FileError } from '../core/io/file-error';
import { createInterface } from 'node:readline/promises';
import { Dataset } from '../core/dataset/dataset';
import { exportPointsJsonl } from '../core/labelling/export';
import { labelsFromRatings } from '../core/labelling/from-ratings';
import type { JobEvent, LabelJobOptions, LabelPlan } from '../core/labelling/job';
import { planLabelJob, runLabelJob } from '../core/labelling/job';
import { journalFileFor, readJournal } from '../core/curation/journal';
import { formatConfigErrors } from '../core/jsonc';
import { pct } from '../core/training/format';
import { OpenAIProvider, validBaseUrl } from '../core/labelling/openai-provider';
import type { PointsConfig } from '../core/labelling/points';
import { buildReport } from '../core/labelling/report';
import { isLang, resolvePoints, resolveTemplates } from '../core/labelling/setup';
import { describeLongWait, MAX_RETRY_WAIT_SECONDS_LIMIT } from '../core/labelling/retry';
import { readStore, storeFileFor } from '../core/labelling/store';
import type { PromptTemplates } from '../core/labelling/templates';
import { existsSync } from 'node:fs';
import { asInputError } from '../core/io/file-error';
import { checkInput } from '../core/io/input-file';
import { COMMON_FLAGS, INDEX_FLAGS, QUIET_FLAG, indexOptionsOf, parseFlags, stringFlags } from './args';
import { UsageError } from './errors';
import { printable } from './format';
import { formatFromRatings, formatPlan, formatReport, formatSummary } from './label-format';
import { checkOutput } from './files';
import { stopOnSignal } from './signals';

/**
 * `rewardlens label` and `rewardlens labels-from-ratings` (docs/labelling.md). The API key comes from
 * the environment only (REWARDLENS_API_KEY, else OPENAI_API_KEY, or the variable named by
 * --api-key-env): never from an argument, which would land in shell history and `ps`.
 */

export const LABEL_USAGE = `  rewardlens label FILE --base-url URL --model NAME [--points CONFIG.jsonc] [--lang zh|en]
                  [--concurrency N] [--rpm N] [--tpm N] [--limit N] [--max-calls N] [--store DIR] [--yes] [--json]
  rewardlens label FILE --report-only [--store DIR] [--export POINTS.jsonl] [--json]
  rewardlens labels-from-ratings FILE --source NAME [--store DIR] [--points CONFIG.jsonc] [--json]

Labelling (docs/labelling.md; API key from $REWARDLENS_API_KEY or $OPENAI_API_KEY):
  --base-url URL       OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1
  --model NAME         judge model
  --points FILE        capability points per category (JSONC); default: the paper's Table 12
  --templates FILE     prompt templates (JSONC, versioned); default: the paper's, in --lang
  --lang zh|en         prompt language (default zh)
  --history            attach the conversation before the final turn (the paper does not)
  --concurrency N      calls in flight (default 4)      --rpm N / --tpm N   per-minute limits
  --timeout SEC        per call (default 60)            --retries N         tries per call (default 6)
  --max-retry-wait SEC longest wait before a retry, a server's Retry-After included (default 120)
  --temperature T      (default 0)                      --max-tokens N      reply limit
  --limit N            only the first N records         --max-calls N       at most N calls in this run
  --no-edits           ignore the edits journal (.rewardlens/FILE.edits.jsonl): label dropped records too
  --price-per-1k P     price per 1k prompt tokens       --price-per-1k-output P
  --store DIR          label store folder (default .rewardlens/ beside FILE)
  --yes                start without asking             --dry-run           print the estimate only
  --report-only        report the store, make no calls  --export FILE       write kept labels as points.jsonl
  --api-key-env NAME   read the API key from this environment variable
  --source NAME        labels-from-ratings: the ratings' source (e.g. gpt-4)`;

/** A problem the user can fix; main prints it as one line and exits 2. */
export class LabelUsageError extends UsageError {}

const options = {
  ...stringFlags(
    'base-url',
    'model',
    'points',
    'templates',
    'lang',
    'concurrency',
    'rpm',
    'tpm',
    'timeout',
    'retries',
    'max-retry-wait',
    'temperature',
    'max-tokens',
    'limit',
    'max-calls',
    'price-per-1k',
    'price-per-1k-output',
    'store',
    'export',
    'api-key-env',
    'source',
  ),
  ...INDEX_FLAGS,
  history: { type: 'boolean', default: false },
  yes: { type: 'boolean', short: 'y', default: false },
  'dry-run': { type: 'boolean', default: false },
  'no-edits': { type: 'boolean', default: false },
  'report-only': { type: 'boolean', default: false },
  ...QUIET_FLAG,
  ...COMMON_FLAGS,
} as const;

type Values = ReturnType<typeof parseFlags<typeof options>>['values'];

function number(values: Values, name: keyof Values, check: (n: number) => boolean, what: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new LabelUsageError(`--${name} must be ${what}, not "${String(raw)}"`);
  return n;
}
function maxRetryWaitMs(values: Values): number | undefined {
  const seconds = number(
    values,
    'max-retry-wait',
    (n) => n >= 1 && n <= MAX_RETRY_WAIT_SECONDS_LIMIT,
    `a number of seconds in [1, ${MAX_RETRY_WAIT_SECONDS_LIMIT}]`,
  );
  return seconds === undefined ? undefined : seconds * 1000;
}

const positiveInt = (n: number): boolean => Number.isInteger(n) && n >= 1;
const MAX_CONCURRENCY = 256;
const nonNegative = (n: number): boolean => n >= 0;

function loadPoints(file: string | undefined): PointsConfig {
  const r = resolvePoints(file);
  if (!r.ok) throw new LabelUsageError(formatConfigErrors(r.file, r.errors).join('\n'));
  return r.value;
}

function loadTemplates(file: string | undefined, lang: string | undefined): PromptTemplates {
  if (lang !== undefined && !isLang(lang)) throw new LabelUsageError(`--lang must be zh or en, not "${lang}"`);
  const r = resolveTemplates(file, lang);
  if (!r.ok) throw new LabelUsageError(formatConfigErrors(r.file, r.errors).join('\n'));
  return r.value;
}

async function openDataset(file: string, values: Values): Promise<Dataset> {
  const indexOptions = indexOptionsOf(values);
  try {
    return await Dataset.open(file, indexOptions);
  } catch (e) {
    throw asInputError(file, e);
  }
}

function apiKey(values: Values): string | undefined {
  if (values['api-key-env'] !== undefined) {
    const v = process.env[values['api-key-env']];
    if (!v) throw new LabelUsageError(`--api-key-env ${values['api-key-env']}: that environment variable is not set`);
    return v;
  }
  return process.env.REWARDLENS_API_KEY || process.env.OPENAI_API_KEY || undefined;
}

/**
 * The flags and the dataset FILE, every file named checked before anything is read (and --export
 * against them all: it once replaced the dataset or the store it was exported from); undefined for --help.
 */
function parse(argv: string[]): { values: Values; file: string; storeFile: string } | undefined {
  const { values, positionals } = parseFlags(argv, options);
  if (values.help) {
    console.log(`Usage:\n${LABEL_USAGE}`);
    return undefined;
  }
  if (positionals.length !== 1) throw new LabelUsageError('give one dataset FILE (see rewardlens label --help)');
  const file = positionals[0];
  checkInput(file);
  for (const f of [values.schema, values.points, values.templates]) if (f !== undefined) checkInput(f);
  const storeFile = storeFileFor(file, values.store);
  if (existsSync(storeFile)) checkInput(storeFile);
  if (values.export !== undefined) checkOutput(values.export, [file, storeFile, values.schema, values.points, values.templates]);
  // A report of a store that is not there is a mistyped --store, not an empty report.
  if (values['report-only'] && !existsSync(storeFile))
    throw new FileError(storeFile, `no label store here: label ${basename(file)} first, or give --store DIR where its store is`);
  return { values, file, storeFile };
}

/** `rewardlens label FILE …`; returns the exit code. */
export async function labelCommand(argv: string[]): Promise<number> {
  const parsed = parse(argv);
  if (!parsed) return 0;
  const { values, file, storeFile } = parsed;
  const out = (json: unknown, text: string): void => console.log(values.json ? JSON.stringify(json) : printable(text));
  const log = (text: string): void => {
    if (!values.quiet) process.stderr.write(`${printable(text)}\n`);
  };
  const points = loadPoints(values.points);
  const dataset = await openDataset(file, values);
  try {
    if (values['report-only']) {
      const report = buildReport(readStore(storeFile), { dataset, points });
      const exported = values.export ? exportPointsJsonl(readStore(storeFile), dataset, values.export) : undefined;
      out(
        { file, store: storeFile, report, export: exported },
        formatReport(report) + (exported ? `\n${exported.out}: ${exported.written} labels exported` : ''),
      );
      return 0;
    }
    if (!values['base-url']) throw new LabelUsageError('label needs --base-url URL (an OpenAI-compatible endpoint) and --model NAME');
    if (!values.model) throw new LabelUsageError('label needs --model NAME');
    if (!validBaseUrl(values['base-url']))
      throw new LabelUsageError(`--base-url must be an http(s) URL, e.g. http://127.0.0.1:8000/v1, not "${values['base-url']}"`);
    const templates = loadTemplates(values.templates, values.lang);
    const timeout = number(values, 'timeout', (n) => n > 0, 'a positive number of seconds');
    const provider = new OpenAIProvider({
      baseUrl: values['base-url'],
      model: values.model,
      apiKey: apiKey(values),
      temperature: number(values, 'temperature', nonNegative, 'a number ≥ 0') ?? 0,
      maxTokens: number(values, 'max-tokens', positiveInt, 'a positive integer'),
      timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    });
    const controller = new AbortController();
    const job: LabelJobOptions = {
      dataset,
      ...(values['no-edits'] ? {} : { edits: readJournal(journalFileFor(file)) }),
      provider,
      store: storeFile,
      points,
      templates,
      attachHistory: values.history,
      // More calls in flight than this is no faster against any endpoint's rate limits, only more memory.
      concurrency: number(values, 'concurrency', (n) => positiveInt(n) && n <= MAX_CONCURRENCY, `a whole number from 1 to ${MAX_CONCURRENCY}`),
      rpm: number(values, 'rpm', (n) => n > 0, 'a positive number'),
      tpm: number(values, 'tpm', (n) => n > 0, 'a positive number'),
      retry: { maxAttempts: number(values, 'retries', positiveInt, 'a positive integer') ?? 6, maxWaitMs: maxRetryWaitMs(values) },
      limitRecords: number(values, 'limit', positiveInt, 'a positive integer'),
      maxCalls: number(values, 'max-calls', positiveInt, 'a positive integer'),
      pricing: {
        promptPer1k: number(values, 'price-per-1k', nonNegative, 'a number ≥ 0'),
        completionPer1k: number(values, 'price-per-1k-output', nonNegative, 'a number ≥ 0'),
      },
      signal: controller.signal,
    };
    // The estimate, from the store as it is now (read without locking: nothing is written yet).
    const plan = planLabelJob(job, readStore(storeFile));
    if (values['dry-run']) {
      out({ file, store: storeFile, plan }, formatPlan(file, plan));
      return 0;
    }
    log(formatPlan(file, plan));
    if (!values.yes && !(await confirm(plan))) {
      log('not started');
      return process.stdin.isTTY ? 0 : 2;
    }
    const cleanup = stopOnSignal(controller, () => log('\ncancelling: waiting for the calls in flight (Ctrl-C again to quit at once; nothing stored is lost)'));
    job.onEvent = progressPrinter(log, values.quiet);
    let summary;
    try {
      summary = await runLabelJob(job);
    } finally {
      cleanup();
    }
    log(formatSummary(summary));
    const contents = readStore(storeFile);
    const report = buildReport(contents, { dataset, points, setup: summary.setup });
    const exported = values.export ? exportPointsJsonl(contents, dataset, values.export, { setup: summary.setup }) : undefined;
    out(
      { file, store: storeFile, plan, summary, report, export: exported },
      formatReport(report) + (exported ? `\n${exported.out}: ${exported.written} labels exported` : ''),
    );
    // Calls that failed for good leave the job unfinished (the next run asks them again): not a success.
    return summary.status === 'failed' || summary.failedCalls > 0 ? 1 : summary.status === 'cancelled' ? 130 : 0;
  } finally {
    dataset.close();
  }
}

async function confirm(plan: LabelPlan): Promise<boolean> {
  if (!process.stdin.isTTY) {
    throw new LabelUsageError(
      `this run makes ${plan.remaining.calls} paid calls: add --yes to start it without a terminal to confirm on (or --dry-run for the estimate)`,
    );
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`Start ${plan.remaining.calls} calls? [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** Progress on stderr: one line rewritten on a terminal, a line every 5 s otherwise. */
function progressPrinter(log: (text: string) => void, quiet: boolean): (e: JobEvent) => void {
  const tty = process.stderr.isTTY;
  let last = 0;
  let retries = 0;
  let started = Date.now();
  let doneAtStart = 0;
  return (e) => {
    if (quiet) return;
    switch (e.type) {
      case 'phase':
        started = Date.now();
        doneAtStart = e.alreadyStored;
        log(`${e.phase === 'classify' ? 'classifying' : 'labelling'}: ${e.total} calls${e.alreadyStored ? `, ${e.alreadyStored} stored already` : ''}`);
        return;
      case 'retry': {
        retries++;
        const wait = describeLongWait(e);
        if (wait) log(`${tty ? '\n' : ''}${wait}: ${e.reason}`);
        return;
      }
      case 'call-failed':
        log(`${tty ? '\n' : ''}call failed after retries (it will be asked again on the next run): ${e.message}`);
        return;
      case 'error':
        log(`${tty ? '\n' : ''}error: ${e.message}`);
        return;
      case 'progress': {
        const now = Date.now();
        if (now - last < (tty ? 200 : 5000) && e.done < e.total) return;
        last = now;
        const rate = (e.done - doneAtStart) / Math.max(0.001, (now - started) / 1000);
        const eta = rate > 0 ? (e.total - e.done) / rate : Infinity;
        const line = `${e.phase}: ${e.done}/${e.total} (${pct(e.done / Math.max(1, e.total))}), ${rate.toFixed(1)} calls/s, ${e.inFlight} in flight, ${retries} retries, kept ${e.consistent} · inconsistent ${e.inconsistent} · invalid ${e.invalid}${Number.isFinite(eta) ? `, ETA ${Math.ceil(eta)} s` : ''}`;
        if (tty) process.stderr.write(`\r${printable(line)}\x1b[K${e.done >= e.total ? '\n' : ''}`);
        else log(line);
        return;
      }
      case 'done':
        if (tty) process.stderr.write('\n');
        return;
      default:
        return;
    }
  };
}

/** `rewardlens labels-from-ratings FILE --source NAME …`. */
export async function labelsFromRatingsCommand(argv: string[]): Promise<number> {
  const parsed = parse(argv);
  if (!parsed) return 0;
  const { values, file, storeFile } = parsed;
  if (!values.source) throw new LabelUsageError("labels-from-ratings needs --source NAME (the ratings' source, e.g. gpt-4 or human)");
  const points = loadPoints(values.points);
  const dataset = await openDataset(file, values);
  try {
    const summary = labelsFromRatings({
      dataset,
      store: storeFile,
      source: values.source,
      points,
      limitRecords: number(values, 'limit', positiveInt, 'a positive integer'),
    });
    const exported = values.export ? exportPointsJsonl(readStore(storeFile), dataset, values.export, { source: `ratings:${values.source}` }) : undefined;
    console.log(
      values.json
        ? JSON.stringify({ file, ...summary, export: exported })
        : printable(formatFromRatings(summary) + (exported ? `\n${exported.out}: ${exported.written} labels exported` : '')),
    );
    return 0;
  } finally {
    dataset.close();
  }
}
