/**
 * Reward-server load benchmark (not a test): `rewardlens serve` in a child process on 127.0.0.1, N
 * concurrent clients each sending requests of --batch queries, requests/s and p50/p95 latency per level;
 * against the same model scoring the same number of queries offline in one process (scoreFile, the path
 * of `rewardlens score`). Every query text is distinct, so the scorer's cache never answers one.
 * Bounded: --requests per level and --seconds per level, then the server is stopped (SIGTERM).
 * Usage: node dist/bench/serve-load.js [--model models/demo/model.onnx] [--clients 1,8,64] [--batch 16]
 *        [--requests 128] [--seconds 30] [--words 40] [--json]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { syntheticText } from './synthetic-text';
import { recordId } from '../src/core/dataset/record-id';
import { scoreFile } from '../src/core/scoring/score-file';
import { OrtScorer } from '../src/core/scoring/session';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: join(__dirname, '..', '..', 'models', 'demo', 'model.onnx') },
    clients: { type: 'string', default: '1,8,64' },
    batch: { type: 'string', default: '16' },
    requests: { type: 'string', default: '128' },
    seconds: { type: 'string', default: '30' },
    words: { type: 'string', default: '40' },
    'max-batch': { type: 'string', default: '64' },
    json: { type: 'boolean', default: false },
  },
});
const model = values.model;
const levels = values.clients.split(',').map(Number);
const batch = Number(values.batch);
const requestsPerLevel = Number(values.requests);
const secondsPerLevel = Number(values.seconds);
const words = Number(values.words);

const text = syntheticText(7);

let serial = 0;
/** A distinct (question, answer) pair. */
function pair(): [string, string] {
  serial++;
  return [`Question ${serial}: ${text(Math.ceil(words / 3))}?`, `${text(words)} (${serial})`];
}
const chatml = ([q, a]: [string, string]): string => `<|im_start|>user\n${q}<|im_end|>\n<|im_start|>assistant\n${a}<|im_end|>`;

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function offline(queries: number, dir: string): Promise<number> {
  const file = join(dir, 'offline.jsonl');
  const lines: string[] = [];
  for (let i = 0; i < queries; i++) {
    const [q, a] = pair();
    const context = [{ role: 'user' as const, content: q }];
    const responses = [{ text: a }];
    lines.push(JSON.stringify({ id: recordId({ context, responses }), context, responses }));
  }
  writeFileSync(file, lines.slice(0, batch).join('\n') + '\n');
  // The session is loaded and warmed first, as the server's is before it listens.
  const scorer = new OrtScorer(model, { batchSize: Number(values['max-batch']) });
  try {
    await scoreFile(model, file, { scorer });
    writeFileSync(file, lines.slice(batch).join('\n') + '\n');
    const started = performance.now();
    const result = await scoreFile(model, file, { scorer });
    return result.records.length / ((performance.now() - started) / 1000);
  } finally {
    await scorer.dispose();
  }
}

async function startServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [join(__dirname, '..', 'cli.js'), 'serve', model, '--port', '0', '--max-batch', values['max-batch'], '--max-queue', '4096'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /at (http:\/\/\S+)\/get_reward/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`the server exited ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

interface Level {
  clients: number;
  requests: number;
  failed: number;
  requestsPerSecond: number;
  queriesPerSecond: number;
  p50ms: number;
  p95ms: number;
}

async function level(url: string, clients: number): Promise<Level> {
  const deadline = performance.now() + secondsPerLevel * 1000;
  const bodies = Array.from({ length: requestsPerLevel }, () => JSON.stringify({ query: Array.from({ length: batch }, () => chatml(pair())) }));
  let next = 0;
  let failed = 0;
  const latencies: number[] = [];
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < bodies.length && performance.now() < deadline) {
        const body = bodies[next++];
        const t = performance.now();
        const res = await fetch(`${url}/get_reward`, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } });
        const json = (await res.json()) as { rewards?: number[] };
        if (res.status !== 200 || json.rewards?.length !== batch) failed++;
        else latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    clients,
    requests: latencies.length,
    failed,
    requestsPerSecond: latencies.length / seconds,
    queriesPerSecond: (latencies.length * batch) / seconds,
    p50ms: percentile(latencies, 50),
    p95ms: percentile(latencies, 95),
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rl-serve-load-'));
  try {
    const offlineQps = await offline((Math.min(requestsPerLevel, 128) + 1) * batch, dir);
    const server = await startServer();
    const results: Level[] = [];
    try {
      // Warm-up: the first runs pay for onnxruntime's allocations.
      await fetch(`${server.url}/get_reward`, { method: 'POST', body: JSON.stringify({ query: Array.from({ length: batch }, () => chatml(pair())) }) });
      for (const clients of levels) results.push(await level(server.url, clients));
    } finally {
      await server.stop();
    }
    if (values.json) {
      console.log(JSON.stringify({ model, batch, cores: availableParallelism(), offlineQueriesPerSecond: offlineQps, levels: results }));
      return;
    }
    console.log(
      `${model}: batch ${batch} queries/request, ${availableParallelism()} cores; offline (rewardlens score path): ${offlineQps.toFixed(0)} queries/s`,
    );
    console.log('clients  requests  failed  req/s   queries/s  p50 ms  p95 ms  vs offline');
    for (const r of results)
      console.log(
        `${String(r.clients).padStart(7)}  ${String(r.requests).padStart(8)}  ${String(r.failed).padStart(6)}  ${r.requestsPerSecond.toFixed(1).padStart(5)}  ${r.queriesPerSecond.toFixed(0).padStart(9)}  ${r.p50ms.toFixed(0).padStart(6)}  ${r.p95ms.toFixed(0).padStart(6)}  ${((100 * r.queriesPerSecond) / offlineQps).toFixed(0).padStart(8)}%`,
      );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
