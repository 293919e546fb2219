import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../../../src/core/labelling/clock';
import { OpenAIProvider, retryAfterMs } from '../../../src/core/labelling/openai-provider';
import { JudgeError } from '../../../src/core/labelling/provider';
import { TokenBucket } from '../../../src/core/labelling/rate-limit';
import { defaultRetryPolicy, retryWait, withRetry } from '../../../src/core/labelling/retry';
import type { Fault } from '../../support/fake-judge-server';
import { FakeJudgeServer } from '../../support/fake-judge-server';

/** A clock that only moves when someone sleeps. */
function fakeClock(): Clock & { slept: number[]; t: number } {
  const c = {
    t: 0,
    slept: [] as number[],
    now: () => c.t,
    sleep: (ms: number) => {
      c.slept.push(ms);
      c.t += ms;
      return Promise.resolve();
    },
  };
  return c;
}

const retryDelay = (...args: Parameters<typeof retryWait>): number => retryWait(...args).delayMs;

void describe('retry', () => {
  void it('backs off exponentially with full jitter, capped', () => {
    const p = { ...defaultRetryPolicy, baseDelayMs: 100, maxDelayMs: 1000 };
    const err = new JudgeError('x', 'http', true, false, 503);
    assert.equal(
      retryDelay(1, err, p, () => 1),
      100,
    );
    assert.equal(
      retryDelay(3, err, p, () => 1),
      400,
    );
    assert.equal(
      retryDelay(10, err, p, () => 1),
      1000,
    );
    assert.equal(
      retryDelay(3, err, p, () => 0),
      0,
    );
    assert.equal(
      retryDelay(3, err, p, () => 0.5),
      200,
    );
  });

  void it('never retries before Retry-After, and adds at most 10%', () => {
    const err = new JudgeError('x', 'http', true, false, 429, 5000);
    assert.equal(
      retryDelay(1, err, defaultRetryPolicy, () => 0),
      5000,
    );
    assert.equal(
      retryDelay(1, err, defaultRetryPolicy, () => 1),
      5500,
    );
  });

  void it('retries retryable errors until success, gives up after maxAttempts, never retries the rest', async () => {
    const clock = fakeClock();
    let n = 0;
    const result = await withRetry(
      () => {
        n++;
        if (n < 3) throw new JudgeError('busy', 'http', true, false, 429, 2000);
        return Promise.resolve('ok');
      },
      { clock, random: () => 0 },
    );
    assert.equal(result, 'ok');
    assert.deepEqual(clock.slept, [2000, 2000]);

    let tries = 0;
    await assert.rejects(
      withRetry(
        () => {
          tries++;
          throw new JudgeError('down', 'http', true, false, 503);
        },
        { clock, policy: { maxAttempts: 4 } },
      ),
      /down/,
    );
    assert.equal(tries, 4);

    tries = 0;
    await assert.rejects(
      withRetry(
        () => {
          tries++;
          throw new JudgeError('bad key', 'http', false, true, 401);
        },
        { clock },
      ),
      /bad key/,
    );
    assert.equal(tries, 1);
  });

  void it('parses Retry-After as seconds, HTTP date or retry-after-ms', () => {
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '3' })), 3000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '250' })), 250);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 4000), 6000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after': 'soon' })), undefined);
    assert.equal(retryAfterMs(new Headers()), undefined);
  });
});

void describe('rate limits', () => {
  void it('a token bucket lets a burst through, then paces at the per-minute rate', async () => {
    const clock = fakeClock();
    const rpm = new TokenBucket(600, clock, 2); // 10 per second, burst 2
    for (let i = 0; i < 5; i++) await rpm.acquire(1);
    // 2 free, then one every 100 ms.
    assert.equal(clock.t, 300);
  });

  void it('a request larger than the burst waits for a full bucket and leaves it in debt', async () => {
    const clock = fakeClock();
    const tpm = new TokenBucket(6000, clock, 100); // 100 tokens per second
    await tpm.acquire(250);
    assert.equal(clock.t, 0);
    await tpm.acquire(10);
    assert.equal(clock.t, 1600); // 150 of debt + 10 at 100/s
  });
});

void describe('OpenAI-compatible provider', () => {
  let server: FakeJudgeServer;
  const faults = new Map<number, Fault>();
  before(async () => {
    server = await FakeJudgeServer.start({ faults: ({ n }) => faults.get(n) });
  });
  after(() => server.close());

  void it('posts one user message; sends Authorization only when a key is given', async () => {
    const withKey = new OpenAIProvider({ baseUrl: `${server.url}/`, model: 'judge', apiKey: 'sk-secret' });
    const reply = await withKey.complete('给定提问和两个回复，判断回复1和回复2在【对话感】方面哪个更好。\n【提问】：q\n【回复1】：a\n【回复2】：b', {});
    assert.match(reply.text, /^回复[12]更好。$/);
    assert.ok(reply.promptTokens! > 0);
    const req = server.requests.at(-1)!;
    assert.equal(req.authorization, 'Bearer sk-secret');
    assert.deepEqual(req.body.messages, [{ role: 'user', content: req.prompt }]);
    assert.equal(req.body.model, 'judge');
    assert.equal(req.body.temperature, 0);
    assert.ok(!JSON.stringify(withKey).includes('sk-secret'), 'the key is not serialisable');

    await new OpenAIProvider({ baseUrl: server.url, model: 'judge' }).complete('x', {});
    assert.equal(server.requests.at(-1)!.authorization, undefined);
  });

  void it('turns faults into typed errors: status, Retry-After, malformed, reset, timeout, cancel', async () => {
    const p = new OpenAIProvider({ baseUrl: server.url, model: 'judge', apiKey: 'sk-secret', timeoutMs: 200 });
    const next = (f: Fault): void => void faults.set(server.requests.length + 1, f);
    const fails = async (f: Fault, check: (e: JudgeError) => void): Promise<void> => {
      next(f);
      await assert.rejects(p.complete('x', {}), (e: unknown) => {
        assert.ok(e instanceof JudgeError, String(e));
        assert.ok(!e.message.includes('sk-secret'));
        check(e);
        return true;
      });
    };
    await fails({ kind: 'status', status: 429, retryAfter: '2' }, (e) => assert.deepEqual([e.status, e.retryable, e.retryAfterMs], [429, true, 2000]));
    await fails({ kind: 'status', status: 429 }, (e) => assert.deepEqual([e.status, e.retryable, e.retryAfterMs], [429, true, undefined]));
    await fails({ kind: 'status', status: 500 }, (e) => assert.deepEqual([e.status, e.retryable, e.fatal], [500, true, false]));
    await fails({ kind: 'status', status: 503, retryAfter: '1' }, (e) => assert.deepEqual([e.status, e.retryable, e.retryAfterMs], [503, true, 1000]));
    await fails({ kind: 'status', status: 401 }, (e) => assert.deepEqual([e.status, e.retryable, e.fatal], [401, false, true]));
    await fails({ kind: 'status', status: 400 }, (e) => assert.deepEqual([e.status, e.retryable, e.fatal], [400, false, false]));
    await fails({ kind: 'malformed' }, (e) => assert.deepEqual([e.kind, e.retryable], ['malformed', true]));
    await fails({ kind: 'no-content' }, (e) => assert.deepEqual([e.kind, e.retryable], ['malformed', true]));
    await fails({ kind: 'reset' }, (e) => assert.deepEqual([e.kind, e.retryable], ['network', true]));
    await fails({ kind: 'hang' }, (e) => assert.deepEqual([e.kind, e.retryable], ['timeout', true]));

    next({ kind: 'hang' });
    const controller = new AbortController();
    const call = p.complete('x', { signal: controller.signal });
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(call, (e: unknown) => e instanceof JudgeError && e.kind === 'cancelled');

    await assert.rejects(
      new OpenAIProvider({ baseUrl: 'http://127.0.0.1:1/v1', model: 'm' }).complete('x', {}),
      (e: unknown) => e instanceof JudgeError && e.kind === 'network',
    );
  });
});
