import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { RewardServer, SERVE_DEFAULTS } from '../../../src/core/serve/server';

const root = join(__dirname, '..', '..', '..', '..');
const model = join(root, 'models', 'demo', 'model.onnx');
const script = join(root, 'examples', 'openrlhf', 'reward_func.py');

/** The trainer's venv (it has torch, as an OpenRLHF machine does), else any python3. */
function python(): string | undefined {
  const candidates = [process.env.REWARDLENS_PYTHON, join(root, '.tools', 'torch-venv', 'bin', 'python'), 'python3'];
  return candidates.find((p) => p && (p === 'python3' ? spawnSync(p, ['--version']).status === 0 : existsSync(p)));
}

const py = python();

function runFunc(url: string, request: unknown): Promise<{ rewards: number[]; scores: number[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(py!, [script], { env: { ...process.env, REWARDLENS_URL: url }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as { rewards: number[]; scores: number[] }) : reject(new Error(`python exited ${code}: ${err}`)),
    );
    child.stdin.end(JSON.stringify(request));
  });
}

const query = (q: string, a: string): string =>
  `<|start_header_id|>user<|end_header_id|>\n\n${q}<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n${a}<|eot_id|>`;
const queries = ['What is 2+2?', 'Name a mammal that flies.', '解释一下光合作用', 'Write a haiku.'].flatMap((q) =>
  ['4', 'A bat.', 'I cannot help with that.'].map((a) => query(q, a)),
);

/** The reward server on a free port, splitting queries by their chat template, with the queue and batching given. */
const startServer = (queue: { maxQueue: number; maxBatch: number; windowMs: number }): Promise<RewardServer> =>
  RewardServer.start(model, { ...SERVE_DEFAULTS, port: 0, ...queue, split: { template: 'auto' }, version: 'test' });

void describe(
  'examples/openrlhf/reward_func.py',
  { skip: py ? false : 'no python3 (nor .tools/torch-venv) on this machine to run the OpenRLHF reward function with' },
  () => {
    void it('gets the same rewards as the server answers directly; bad input is not retried', async () => {
      const server = await startServer({ maxQueue: 16, maxBatch: 16, windowMs: 5 });
      try {
        const request = { query: queries, prompts: queries.map((q) => q.slice(0, q.lastIndexOf('<|start_header_id|>'))), labels: queries.map(() => '') };
        const direct = (await (await fetch(`${server.url}/get_reward`, { method: 'POST', body: JSON.stringify(request) })).json()) as { rewards: number[] };
        const viaPython = await runFunc(server.url, request);
        assert.equal(viaPython.rewards.length, queries.length);
        viaPython.rewards.forEach((r, i) => assert.ok(Math.abs(r - direct.rewards[i]) < 1e-6, `query ${i}: ${r} vs ${direct.rewards[i]}`));
        assert.deepEqual(viaPython.scores, viaPython.rewards);
        // Bad input is not retried: the server's message comes back.
        await assert.rejects(runFunc(server.url, { query: ['no template'] }), /HTTP 400.*no split point/);
      } finally {
        await server.close();
      }
    });

    void it('retries a full queue after Retry-After, as remote_rm_utils retries', async () => {
      // The first request waits 1.5 s in the queue and fills it; the function's first tries get 503.
      const server = await startServer({ maxQueue: 12, maxBatch: 32, windowMs: 1500 });
      try {
        const filler = fetch(`${server.url}/get_reward`, { method: 'POST', body: JSON.stringify({ query: queries }) });
        await new Promise((r) => setTimeout(r, 100));
        const viaPython = await runFunc(server.url, { query: queries });
        assert.ok((server.answered.get(503) ?? 0) >= 1, 'the function never met a full queue');
        const direct = (await (await filler).json()) as { rewards: number[] };
        viaPython.rewards.forEach((r, i) => assert.ok(Math.abs(r - direct.rewards[i]) < 1e-6, `query ${i}`));
      } finally {
        await server.close();
      }
    });
  },
);
