import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Dataset } from '../../../src/core/dataset/dataset';
import type { JobEvent } from '../../../src/core/labelling/job';
import { runLabelJob } from '../../../src/core/labelling/job';
import { OpenAIProvider } from '../../../src/core/labelling/openai-provider';
import { defaultPointsConfig } from '../../../src/core/labelling/points';
import type { JudgeProvider } from '../../../src/core/labelling/provider';
import { JudgeError, MAX_REPLY_BYTES } from '../../../src/core/labelling/provider';
import { defaultRetryPolicy, describeLongWait, retryWait, withRetry } from '../../../src/core/labelling/retry';
import { readStore, STORED_REPLY_CHARS } from '../../../src/core/labelling/store';
import { DEFAULT_TEMPLATES } from '../../../src/core/labelling/templates';
import { FakeJudgeServer } from '../../support/fake-judge-server';
import { syntheticRecords, tempDir, writeDataset } from '../../support/label-fixtures';

/** Issue 12 item 4: no wait, reply or stored line without a bound. */

void describe('retry waits are capped', () => {
  void it('a Retry-After longer than the cap waits the cap and reports what was asked', () => {
    const hour = new JudgeError('busy', 'http', true, false, 429, 3_600_000);
    assert.deepEqual(
      retryWait(1, hour, defaultRetryPolicy, () => 0),
      { delayMs: 120_000, requestedMs: 3_600_000 },
    );
    // 99999999 s: as a timer it would overflow to 1 ms and hammer the server.
    const huge = new JudgeError('busy', 'http', true, false, 429, 99_999_999_000);
    assert.deepEqual(
      retryWait(1, huge, { ...defaultRetryPolicy, maxWaitMs: 5000 }, () => 1),
      { delayMs: 5000, requestedMs: 99_999_999_000 },
    );
    assert.deepEqual(
      retryWait(1, new JudgeError('busy', 'http', true, false, 429, 2000), defaultRetryPolicy, () => 0),
      { delayMs: 2000 },
    );
    assert.match(
      describeLongWait({ attempt: 1, delayMs: 120_000, requestedMs: 3_600_000 })!,
      /retry 1 in 120 s \(the server asked for 3600 s: waiting the cap/,
    );
    assert.equal(describeLongWait({ attempt: 1, delayMs: 900 }), undefined);
  });

  void it('withRetry sleeps the cap, never the overflowing value', async () => {
    const slept: number[] = [];
    const clock = {
      now: () => 0,
      sleep: (ms: number) => {
        slept.push(ms);
        return Promise.resolve();
      },
    };
    let n = 0;
    const seen: (number | undefined)[] = [];
    await withRetry(() => (++n < 3 ? Promise.reject(new JudgeError('busy', 'http', true, false, 429, 99_999_999_000)) : Promise.resolve('ok')), {
      clock,
      random: () => 0,
      policy: { maxWaitMs: 7000 },
      onRetry: (r) => seen.push(r.requestedMs),
    });
    assert.deepEqual(slept, [7000, 7000]);
    assert.deepEqual(seen, [99_999_999_000, 99_999_999_000]);
  });

  void it('a policy field given as undefined (a CLI flag not set) keeps its default: the backoff still waits', async () => {
    const slept: number[] = [];
    const clock = { now: () => 0, sleep: (ms: number) => (slept.push(ms), Promise.resolve()) };
    let n = 0;
    await withRetry(() => (++n < 3 ? Promise.reject(new JudgeError('down', 'http', true, false, 503)) : Promise.resolve('ok')), {
      clock,
      random: () => 1,
      policy: { maxAttempts: 6, maxWaitMs: undefined },
    });
    assert.deepEqual(slept, [defaultRetryPolicy.baseDelayMs, 2 * defaultRetryPolicy.baseDelayMs]);
  });
});

void describe('judge replies are bounded', () => {
  let server: Server;
  let url: string;
  let mode: 'huge' | 'endless' = 'huge';
  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const chunk = Buffer.alloc(64 * 1024, 'x');
        if (mode === 'huge') {
          // 10 MB of valid JSON: one verdict character and padding.
          res.end(JSON.stringify({ choices: [{ message: { content: `1${'x'.repeat(10 * 1024 * 1024)}` } }] }));
          return;
        }
        res.write('{"choices":[{"message":{"content":"1');
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  void it('a 10 MB reply fails the call without being read whole, and is not retried', async () => {
    mode = 'huge';
    const p = new OpenAIProvider({ baseUrl: url, model: 'm', timeoutMs: 30_000 });
    await assert.rejects(p.complete('x', {}), (e: unknown) => {
      assert.ok(e instanceof JudgeError, String(e));
      assert.deepEqual([e.kind, e.retryable, e.fatal], ['malformed', false, false]);
      assert.match(e.message, new RegExp(`larger than ${MAX_REPLY_BYTES} bytes`));
      return true;
    });
  });

  void it('an endless reply stops being read at the limit instead of running to the timeout', async () => {
    mode = 'endless';
    const p = new OpenAIProvider({ baseUrl: url, model: 'm', timeoutMs: 60_000, maxReplyBytes: 1000 });
    await assert.rejects(p.complete('x', {}), (e: unknown) => e instanceof JudgeError && e.kind === 'malformed' && /larger than 1000 bytes/.test(e.message));
  });
});

void describe('stored replies are bounded', () => {
  void it('keeps a prefix and the full length; the verdict comes from the whole reply', async () => {
    const dir = tempDir();
    const file = writeDataset(dir, syntheticRecords(1, 2, ['闲聊']));
    const dataset = await Dataset.open(file);
    const long = `回复1更好。${'理由'.repeat(20_000)}`;
    const provider: JudgeProvider = { id: 'test', model: 'm', complete: () => Promise.resolve({ text: long, promptTokens: 1, completionTokens: 1 }) };
    const events: JobEvent[] = [];
    try {
      const summary = await runLabelJob({
        dataset,
        provider,
        store: `${dir}/store.jsonl`,
        points: defaultPointsConfig(),
        templates: DEFAULT_TEMPLATES.zh,
        onEvent: (e) => events.push(e),
      });
      assert.equal(summary.status, 'completed', JSON.stringify(events.filter((e) => e.type === 'error')));
    } finally {
      dataset.close();
    }
    const calls = [...readStore(`${dir}/store.jsonl`).calls.values()];
    assert.ok(calls.length > 0);
    for (const c of calls) {
      assert.equal(c.reply.length, STORED_REPLY_CHARS);
      assert.equal(c.replyChars, long.length);
      assert.equal(c.verdict, 1);
    }
  });
});

void describe('rewardlens label --max-retry-wait', () => {
  // The built CLI beside this bundle (dist/test/unit/labelling → dist/cli.js).
  const cli = resolve(__dirname, '..', '..', '..', 'cli.js');
  const env = { ...process.env, REWARDLENS_API_KEY: undefined, OPENAI_API_KEY: undefined };

  void it('a Retry-After over the cap waits the cap and says so; a cap out of range is a usage error', async () => {
    const server = await FakeJudgeServer.start({ faults: ({ n }) => (n === 1 ? { kind: 'status', status: 429, retryAfter: '3600' } : undefined) });
    try {
      const file = writeDataset(tempDir(), syntheticRecords(1, 2, ['闲聊']));
      const base = [cli, 'label', file, '--base-url', server.url, '--model', 'judge', '--yes', '--max-calls', '1'];
      // spawnSync would block the fake server living in this process: run the child asynchronously.
      const run = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
        new Promise((done) => {
          const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
          let stderr = '';
          child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('close', (code) => done({ code, stderr }));
        });
      const t0 = Date.now();
      const ok = await run([...base, '--max-retry-wait', '1']);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stderr, /retry 1 in 1 s \(the server asked for 3600 s: waiting the cap, maxRetryWaitSeconds\): HTTP 429/);
      assert.ok(Date.now() - t0 < 30_000);
      const bad = spawnSync(process.execPath, [...base, '--max-retry-wait', '100000'], { env, encoding: 'utf8' });
      assert.equal(bad.status, 2);
      assert.match(bad.stderr, /--max-retry-wait must be a number of seconds in \[1, 86400\], not "100000"/);
    } finally {
      await server.close();
    }
  });
});
