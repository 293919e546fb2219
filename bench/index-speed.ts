/**
 * Dataset-engine benchmark (not a test): generates a ~1 GiB JSONL file from real records and
 * measures, in one run,
 *   (a) the offset index (every record reachable) against `wc -l`,
 *   (b) the full index (parse, map, validate, statistics) against a plain Python json.loads loop,
 *   records/s, and bytes of index memory per record,
 * and what bounds (b): the full index on one thread, and a bare JSON.parse loop (no mapping, hashing
 * or statistics) on one thread and split over the same threads as (b), which no full index can beat.
 * Usage: node dist/bench/index-speed.js [--size-mb 1024] [--runs 3] [--workers N] [--json]
 * Every timing is on a warm page cache (the file is read once before timing), best of --runs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { FileSource } from '../src/core/dataset/byte-source';
import { Dataset } from '../src/core/dataset/dataset';
import { buildOffsetIndex, scanJsonl } from '../src/core/dataset/offsets';

const { values } = parseArgs({
  options: {
    'size-mb': { type: 'string', default: '1024' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean', default: false },
    'skip-python': { type: 'boolean', default: false },
  },
});
const root = resolve(__dirname, '..', '..');
const sizeBytes = Number(values['size-mb']) * 1024 * 1024;
const runs = Number(values.runs);
const workers = values.workers ? Number(values.workers) : availableParallelism();
const outDir = join(root, 'bench', 'out');
const file = values.out ?? join(outDir, `hh-rlhf-${values['size-mb']}mb.jsonl`);

/** Real records: the full HH-RLHF harmless test set when ../shared is there, else the repo sample. */
function seedLines(): string[] {
  const shared = join(root, '..', 'shared', 'data', 'hh-rlhf-harmless', 'test.jsonl');
  const sample = join(root, 'test', 'fixtures', 'samples', 'hh-rlhf-harmless.sample.jsonl');
  const text = readFileSync(existsSync(shared) ? shared : sample, 'utf8');
  return text.split('\n').filter((l) => l.trim().length > 0);
}

/**
 * Repeats the seed records with a copy number in the first human turn, so ids and prompts stay
 * distinct (duplicate detection sees a realistic file, not one giant duplicate).
 */
function generate(): void {
  if (existsSync(file) && Math.abs(statSync(file).size - sizeBytes) < sizeBytes * 0.02) return;
  mkdirSync(outDir, { recursive: true });
  const seeds = seedLines().map((l) => JSON.parse(l) as { chosen: string; rejected: string });
  const fd = openSync(file, 'w');
  let written = 0;
  let copy = 0;
  let batch: string[] = [];
  while (written < sizeBytes) {
    for (const s of seeds) {
      const tag = `\n\nHuman: [${copy}] `;
      const line = JSON.stringify({ chosen: s.chosen.replace('\n\nHuman: ', tag), rejected: s.rejected.replace('\n\nHuman: ', tag) }) + '\n';
      batch.push(line);
      written += Buffer.byteLength(line);
      if (written >= sizeBytes) break;
    }
    copy++;
    if (batch.length > 2000) {
      writeSync(fd, batch.join(''));
      batch = [];
    }
  }
  writeSync(fd, batch.join(''));
  closeSync(fd);
}

function best<T>(n: number, fn: () => T): { seconds: number; value: T } {
  let seconds = Infinity;
  let value!: T;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    value = fn();
    seconds = Math.min(seconds, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { seconds, value };
}

async function bestAsync<T>(n: number, fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  let seconds = Infinity;
  let value!: T;
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    value = await fn();
    seconds = Math.min(seconds, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { seconds, value };
}

/** Counts the lines of `[from, to)` that JSON.parse accepts: the parse-only work of one scan range. */
function bareParse(from: number, to: number): number {
  const source = new FileSource(file);
  let n = 0;
  try {
    scanJsonl(
      source,
      from,
      to,
      (_s, _l, _line, bytes) => {
        JSON.parse(bytes!.toString('utf8'));
        n++;
      },
      { wantBytes: true },
    );
  } finally {
    source.close();
  }
  return n;
}

/** Line-aligned split of the file into `parts` ranges, as the indexer splits it for its workers. */
function lineAlignedBounds(parts: number): number[] {
  const size = statSync(file).size;
  const fd = openSync(file, 'r');
  const probe = Buffer.alloc(1 << 20);
  const bounds = [0];
  try {
    for (let k = 1; k < parts; k++) {
      const at = Math.floor((size * k) / parts);
      const n = readSync(fd, probe, 0, probe.length, at);
      const nl = probe.subarray(0, n).indexOf(0x0a);
      bounds.push(nl < 0 ? size : at + nl + 1);
    }
  } finally {
    closeSync(fd);
  }
  bounds.push(size);
  return bounds;
}

/** The bare JSON.parse loop split over `parts` worker threads (this same script, run as a worker). */
async function bareParseInWorkers(parts: number): Promise<number> {
  const bounds = lineAlignedBounds(parts);
  const counts = await Promise.all(
    bounds.slice(0, -1).map(
      (from, k) =>
        new Promise<number>((resolve, reject) => {
          const worker = new Worker(__filename, { workerData: { from, to: bounds[k + 1] }, argv: process.argv.slice(2) });
          worker.once('message', (n: number) => resolve(n));
          worker.once('error', reject);
        }),
    ),
  );
  return counts.reduce((a, b) => a + b, 0);
}

const PYTHON_LOOP = 'import json,sys\nn=0\nfor line in open(sys.argv[1],"rb"):\n    if line.strip():\n        json.loads(line); n+=1\nprint(n)';

async function main(): Promise<void> {
  generate();
  const bytes = statSync(file).size;
  const gib = bytes / 2 ** 30;
  execFileSync('cat', [file], { stdio: ['ignore', 'ignore', 'inherit'], maxBuffer: 0 }); // warm the page cache
  const wc = best(runs, () => execFileSync('wc', ['-l', file], { encoding: 'utf8' }));
  const offsets = best(runs, () => {
    const source = new FileSource(file);
    try {
      return buildOffsetIndex(source);
    } finally {
      source.close();
    }
  });
  const records = offsets.value.starts.length;
  const indexBytes = offsets.value.starts.byteLength + offsets.value.lengths.byteLength + offsets.value.lines.byteLength;
  const full = await bestAsync(runs, async () => {
    const d = await Dataset.open(file, { workers });
    d.close();
    return d.report;
  });
  // What bounds (b): the same work on one thread, and V8's JSON.parse alone over the same lines.
  const oneThread = await bestAsync(1, async () => {
    const d = await Dataset.open(file, { workers: 1 });
    d.close();
  });
  const bare = best(1, () => bareParse(0, bytes));
  const bareParallel = await bestAsync(1, () => bareParseInWorkers(workers));
  let python: { seconds: number } | undefined;
  if (!values['skip-python']) {
    const py = spawnSync('python3', ['--version'], { encoding: 'utf8' });
    if (py.status === 0) python = best(runs, () => execFileSync('python3', ['-c', PYTHON_LOOP, file], { encoding: 'utf8' }));
  }
  const result = {
    machine: `${cpus()[0]?.model ?? 'unknown'} × ${availableParallelism()}`,
    node: process.version,
    file,
    gib: round(gib),
    records,
    workers,
    wcSeconds: round(wc.seconds),
    offsetsSeconds: round(offsets.seconds),
    offsetsVsWc: round(offsets.seconds / wc.seconds),
    fullSeconds: round(full.seconds),
    fullRecordsPerSecond: Math.round(full.value.records / full.seconds),
    fullOneThreadSeconds: round(oneThread.seconds),
    bareJsonParseSeconds: round(bare.seconds),
    bareJsonParseParallelSeconds: round(bareParallel.seconds),
    bareParallelVsPython: python ? round(python.seconds / bareParallel.seconds) : null,
    pythonSeconds: python ? round(python.seconds) : null,
    fullSpeedupVsPython: python ? round(python.seconds / full.seconds) : null,
    indexBytesPerRecord: round(indexBytes / records),
    fullReport: { records: full.value.records, malformed: full.value.malformed, duplicatePrompts: full.value.duplicatePrompts },
  };
  if (values.json) {
    console.log(JSON.stringify(result));
    return;
  }
  console.log(`file ${file}: ${result.gib} GiB, ${records} records (${result.machine}, Node ${result.node})`);
  console.log(`(a) offset index ${result.offsetsSeconds} s  vs  wc -l ${result.wcSeconds} s  → ${result.offsetsVsWc}× (target ≤ 2.5×)`);
  console.log(
    `(b) full index ${result.fullSeconds} s with ${workers} workers (${result.fullRecordsPerSecond} records/s)` +
      (python ? `  vs  Python json.loads loop ${result.pythonSeconds} s → ${result.fullSpeedupVsPython}× faster (target ≥ 1.5×)` : '  (python3 not found)'),
  );
  console.log(`    one thread: full index ${result.fullOneThreadSeconds} s; a bare JSON.parse loop alone ${result.bareJsonParseSeconds} s`);
  console.log(
    `    bound: a bare JSON.parse loop over ${workers} threads ${result.bareJsonParseParallelSeconds} s` +
      (python ? ` (${result.bareParallelVsPython}× Python)` : ''),
  );
  console.log(`    index memory ${result.indexBytesPerRecord} bytes/record (target ≤ 16)`);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

if (isMainThread) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const range = workerData as { from: number; to: number };
  parentPort!.postMessage(bareParse(range.from, range.to));
}
