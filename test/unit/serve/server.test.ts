import assert from 'node:assert/strict';
import { request } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordId } from '../../../src/core/dataset/record-id';
import type { Turn } from '../../../src/core/dataset/record';
import { scoreFile } from '../../../src/core/scoring/score-file';
import { RequestLog } from '../../../src/core/serve/request-log';
import type { ServeOptions } from '../../../src/core/serve/server';
import { RewardServer, SERVE_DEFAULTS } from '../../../src/core/serve/server';

const model = join(__dirname, '..', '..', '..', '..', 'models', 'demo', 'model.onnx');
const dir = mkdtempSync(join(tmpdir(), 'rl-serve-'));

function options(over: Partial<ServeOptions> = {}): ServeOptions {
  return { ...SERVE_DEFAULTS, port: 0, maxQueue: 256, split: { template: 'auto' }, version: 'test', ...over };
}

const QUESTIONS = [
  'What is the capital of France?',
  'How do I boil an egg?',
  '请写一首关于春天的诗',
  'Tell me a joke about cats.',
  'Is the earth flat?',
  'How many legs does a spider have?',
];
const ANSWERS = ['Paris.', 'Put it in boiling water for eight minutes.', '春风吹绿了柳树。', 'No.', 'The earth is round, an oblate spheroid.', 'Eight.'];

function chatml(q: string, a: string): string {
  return `<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\n${q}<|im_end|>\n<|im_start|>assistant\n${a}<|im_end|>`;
}
function turns(q: string): Turn[] {
  return [
    { role: 'system', content: 'You are helpful.' },
    { role: 'user', content: q },
  ];
}

/** Every (question, answer) pair: 36 distinct queries. */
const PAIRS = QUESTIONS.flatMap((q) => ANSWERS.map((a) => [q, a] as const));

/** The same texts scored offline by `rewardlens score`'s path, from a canonical file. */
async function offline(pairs: ReadonlyArray<readonly [string, string]>): Promise<number[]> {
  const file = join(dir, `offline-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(
    file,
    pairs
      .map(([q, a]) => {
        const responses = [{ text: a }];
        return JSON.stringify({ id: recordId({ context: turns(q), responses }), context: turns(q), responses });
      })
      .join('\n') + '\n',
  );
  return (await scoreFile(model, file)).records.map((r) => r.logits[0]);
}

async function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${url}/get_reward`, {
    method: 'POST',
    body: typeof body === 'string' ? body : JSON.stringify(body),
    headers: { 'Content-Type': 'application/json', ...headers },
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

/** Served rewards are logits (the model's reward_logit output); another batch's padding moves them by float error only. */
const near = (x: number, y: number): boolean => Math.abs(x - y) < 1e-4 * Math.max(1, Math.abs(y));
const close = (a: number[], b: number[]): void => {
  assert.equal(a.length, b.length);
  a.forEach((x, i) => assert.ok(near(x, b[i]), `reward ${i}: ${x} vs offline ${b[i]}`));
};

void describe('rewardlens serve', () => {
  let server: RewardServer;
  let expected: number[];
  const logFile = join(dir, 'requests.jsonl');

  before(async () => {
    expected = await offline(PAIRS);
    server = await RewardServer.start(model, options({ log: new RequestLog(logFile) }));
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  void it('answers {rewards, scores, extra_logs} in input order, with the router and the capability experts', async () => {
    const picks = [3, 0, 17, 35];
    const r = await post(server.url, { query: picks.map((i) => chatml(...PAIRS[i])), prompts: picks.map(() => 'ignored'), labels: picks.map(() => '') });
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json).sort(), ['categories', 'extra_logs', 'rewards', 'scores']);
    const rewards = r.json.rewards as number[];
    close(
      rewards,
      picks.map((i) => expected[i]),
    );
    assert.deepEqual(r.json.scores, rewards);
    const extra = r.json.extra_logs as Record<string, Array<number | null>>;
    assert.deepEqual(Object.keys(extra).sort(), [
      'category_id',
      'category_prob',
      'objective knowledge QA/completeness',
      'objective knowledge QA/factuality',
      'objective knowledge QA/relevance',
    ]);
    const cats = r.json.categories as string[];
    const info = server.info();
    for (let k = 0; k < picks.length; k++) {
      assert.equal(extra.category_id[k], (info.categories as string[]).indexOf(cats[k]));
      assert.ok((extra.category_prob[k] as number) > 0 && (extra.category_prob[k] as number) <= 1);
      const routedQa = cats[k] === 'objective knowledge QA';
      assert.equal(typeof extra['objective knowledge QA/factuality'][k], routedQa ? 'number' : 'object', `query ${k} routed to ${cats[k]}`);
    }
    // Reversed input, reversed answer.
    const back = await post(server.url, { query: [...picks].reverse().map((i) => chatml(...PAIRS[i])) });
    close(back.json.rewards as number[], [...rewards].reverse());
  });

  void it('concurrent clients each get their own rewards, scored together in shared runs', async () => {
    const before = server.runSizes.length;
    const clients = Array.from({ length: 12 }, (_, c) => [c, (c * 7) % 36, (c * 5 + 3) % 36]);
    const answers = await Promise.all(clients.map((ids) => post(server.url, { query: ids.map((i) => chatml(...PAIRS[i])) })));
    answers.forEach((a, c) => {
      assert.equal(a.status, 200);
      close(
        a.json.rewards as number[],
        clients[c].map((i) => expected[i]),
      );
    });
    const runs = server.runSizes.slice(before);
    assert.ok(runs.length < clients.length, `12 concurrent requests took ${runs.length} runs: no batching`);
    assert.equal(
      runs.reduce((a, b) => a + b, 0),
      36,
    );
  });

  void it('the request log is a canonical dataset that `rewardlens score` scores to the same rewards', async () => {
    const logged = await scoreFile(model, logFile);
    assert.ok(logged.records.length >= 40);
    assert.equal(logged.summary.malformed, 0);
    const lines = readFileSync(logFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { metadata: { reward: number }; context: Turn[] });
    lines.forEach((l, i) => assert.ok(near(l.metadata.reward, logged.records[i].logits[0]), `line ${i + 1}`));
    assert.deepEqual(lines[0].context, turns(PAIRS[3][0]));
  });

  void it('bad requests get 400/404/405/413 with a message, and the server keeps serving', async () => {
    const cases: Array<[unknown, number, RegExp]> = [
      ['{"query": [', 400, /not JSON/],
      ['[1]', 400, /must be a JSON object/],
      [{ query: 'x' }, 400, /"query" must be a list of strings, not a string/],
      [{ query: [] }, 400, /"query" is empty/],
      [{ query: ['a', 3] }, 400, /query 1 is a number/],
      [{ query: [chatml('a', 'b')], prompts: [1] }, 400, /"prompts" must be a list of strings/],
      [{ query: [chatml('a', 'b'), 'no template here'] }, 400, /query 1: no split point/],
      [{ query: Array.from({ length: 300 }, () => chatml('a', 'b')) }, 413, /at most 256 per request/],
      ['x'.repeat(SERVE_DEFAULTS.maxBodyBytes + 10), 413, /larger than/],
    ];
    for (const [body, status, message] of cases) {
      const r = await post(server.url, body);
      assert.equal(r.status, status, String(body).slice(0, 40));
      assert.match(String(r.json.error), message);
    }
    const get = await fetch(`${server.url}/get_reward`);
    assert.equal(get.status, 405);
    assert.equal((await fetch(`${server.url}/nope`)).status, 404);
    const ok = await post(server.url, { query: [chatml(...PAIRS[5])] });
    close(ok.json.rewards as number[], [expected[5]]);
    const health = await fetch(`${server.url}/health`);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const info = (await (await fetch(`${server.url}/info`)).json()) as Record<string, unknown>;
    assert.equal(info.model, 'model.onnx');
    assert.equal(info.method, 'dmoerm');
    assert.equal((info.capabilities as unknown[]).length, 3);
  });

  void it('a client that goes away mid-body or mid-request does not stop the server', async () => {
    const { hostname, port } = new URL(server.url);
    await new Promise<void>((resolve) => {
      const req = request({ hostname, port, path: '/get_reward', method: 'POST', headers: { 'Content-Length': '1000' } });
      req.on('error', () => resolve());
      req.write('{"query": ["');
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
    await new Promise<void>((resolve) => {
      const req = request({ hostname, port, path: '/get_reward', method: 'POST', headers: { 'Content-Type': 'application/json' } });
      req.on('error', () => resolve());
      req.end(JSON.stringify({ query: PAIRS.map((p) => chatml(...p)) }));
      // Gone before the run answers.
      setImmediate(() => {
        req.destroy();
        resolve();
      });
    });
    const ok = await post(server.url, { query: [chatml(...PAIRS[1])] });
    assert.equal(ok.status, 200);
    close(ok.json.rewards as number[], [expected[1]]);
  });
});

void describe('rewardlens serve: limits and shutdown', () => {
  void it('a full queue answers 503 with Retry-After', async () => {
    const s = await RewardServer.start(model, options({ maxQueue: 4, maxBatch: 4, windowMs: 300 }));
    try {
      const first = post(s.url, { query: PAIRS.slice(0, 3).map((p) => chatml(...p)) });
      await new Promise((r) => setTimeout(r, 50));
      const second = await post(s.url, { query: PAIRS.slice(3, 5).map((p) => chatml(...p)) });
      assert.equal(second.status, 503);
      assert.equal(second.headers.get('retry-after'), '1');
      assert.match(String(second.json.error), /queue is full/);
      assert.equal((await first).status, 200);
    } finally {
      await s.close();
    }
  });

  void it('close() answers what is in flight, then refuses connections', async () => {
    const s = await RewardServer.start(model, options({ windowMs: 200 }));
    const url = s.url;
    const pending = post(url, { query: PAIRS.slice(0, 8).map((p) => chatml(...p)) });
    await new Promise((r) => setTimeout(r, 50));
    const closing = s.close();
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal((r.json.rewards as number[]).length, 8);
    await closing;
    await assert.rejects(fetch(`${url}/health`));
  });

  void it('a bearer token guards every route but /health', async () => {
    const s = await RewardServer.start(model, options({ token: 's3cret' }));
    try {
      assert.equal((await post(s.url, { query: [chatml('a', 'b')] })).status, 401);
      assert.equal((await post(s.url, { query: [chatml('a', 'b')] }, { Authorization: 'Bearer wrong!' })).status, 401);
      assert.equal((await post(s.url, { query: [chatml('a', 'b')] }, { Authorization: 'Bearer s3cret' })).status, 200);
      assert.equal((await fetch(`${s.url}/health`)).status, 200);
      assert.equal((await fetch(`${s.url}/info`)).status, 401);
    } finally {
      await s.close();
    }
  });
});
