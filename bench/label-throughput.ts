import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Dataset } from '../src/core/dataset/dataset';
import { runLabelJob } from '../src/core/labelling/job';
import { OpenAIProvider } from '../src/core/labelling/openai-provider';
import { defaultPointsConfig } from '../src/core/labelling/points';
import { readStore } from '../src/core/labelling/store';
import { DEFAULT_TEMPLATES } from '../src/core/labelling/templates';
import { FakeJudgeServer } from '../test/support/fake-judge-server';
import { syntheticRecords, tempDir, writeDataset } from '../test/support/label-fixtures';

/**
 * Sustained labelling throughput against a judge with a fixed latency, as a fraction of the ideal
 * concurrency / latency (target ≥ 90%). Not a timed test: `npm run bench:label [-- --latency 200
 * --concurrency 64 --calls 6000]`. The job does everything a real one does — HTTP over loopback,
 * prompts rendered, every result appended to the store — so the gap to the ideal is the job's own
 * overhead per call. The judge runs in a child process, as a real one would not share the job's
 * event loop.
 */

const { values } = parseArgs({
  options: {
    latency: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '64' },
    calls: { type: 'string', default: '6000' },
    serve: { type: 'boolean', default: false },
  },
});
const latencyMs = Number(values.latency);
const concurrency = Number(values.concurrency);
const wanted = Number(values.calls);

async function main(): Promise<void> {
  const dir = tempDir('rl-label-bench-');
  // 4 responses → 6 pairs × 5 chitchat points × 2 orders = 60 calls per record.
  const records = Math.ceil(wanted / 60);
  const file = writeDataset(dir, syntheticRecords(records, 4, ['闲聊']));
  const dataset = await Dataset.open(file);
  const { child, url } = await startJudge();
  const store = join(dir, 'labels.jsonl');
  try {
    let firstAt = 0;
    let lastAt = 0;
    let done = 0;
    const summary = await runLabelJob({
      dataset,
      provider: new OpenAIProvider({ baseUrl: url, model: 'fake' }),
      store,
      points: defaultPointsConfig(),
      templates: DEFAULT_TEMPLATES.zh,
      concurrency,
      onEvent: (e) => {
        if (e.type !== 'progress') return;
        done++;
        // Steady state: from the first completion (the pool is full) to the last.
        if (done === 1) firstAt = performance.now();
        lastAt = performance.now();
      },
    });
    const seconds = (lastAt - firstAt) / 1000;
    const rate = (done - 1) / seconds;
    const ideal = (concurrency * 1000) / latencyMs;
    const stored = readStore(store).calls.size;
    console.log(`label throughput: ${summary.calls} calls (${stored} stored), latency ${latencyMs} ms, concurrency ${concurrency}`);
    console.log(`  sustained ${rate.toFixed(1)} calls/s vs ideal ${ideal.toFixed(1)} calls/s = ${((100 * rate) / ideal).toFixed(1)}% (target ≥ 90%)`);
    console.log(`  wall ${(summary.elapsedMs / 1000).toFixed(2)} s including planning; status ${summary.status}`);
  } finally {
    child.kill();
    dataset.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** This script again, as the judge (`--serve`), in its own process. */
function startJudge(): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--serve', '--latency', String(latencyMs)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (url: string) => resolve({ child, url }));
    child.once('error', reject);
  });
}

if (values.serve) {
  void FakeJudgeServer.start({ latencyMs, biasShare: 0.1, invalidShare: 0.02 }).then((server) => process.send!(server.url));
} else {
  void main();
}
