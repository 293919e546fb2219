import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { appendToJournal, contentHash, journalFileFor, readJournal } from '../../../src/core/curation/journal';
import { Dataset } from '../../../src/core/dataset/dataset';
import type { JobEvent, JobSummary, LabelJobOptions } from '../../../src/core/labelling/job';
import { planLabelJob, runLabelJob } from '../../../src/core/labelling/job';
import { OpenAIProvider } from '../../../src/core/labelling/openai-provider';
import type { PointsConfig } from '../../../src/core/labelling/points';
import { compilePointsConfig, defaultPointsConfig, findCategory } from '../../../src/core/labelling/points';
import { buildReport } from '../../../src/core/labelling/report';
import type { MergedLabel } from '../../../src/core/labelling/store';
import { LabelStore, mergedLabels, readStore } from '../../../src/core/labelling/store';
import { LockedError } from '../../../src/core/lock';
import { DEFAULT_TEMPLATES } from '../../../src/core/labelling/templates';
import type { Fault, FakeJudgeOptions } from '../../support/fake-judge-server';
import { FakeJudgeServer, judgeOf } from '../../support/fake-judge-server';
import type { FixtureRecord } from '../../support/label-fixtures';
import { syntheticRecords, tempDir, writeDataset } from '../../support/label-fixtures';

const BIAS = 0.2;
const INVALID = 0.1;
const records: FixtureRecord[] = syntheticRecords(6, 3, ['闲聊']);
const chitchat = findCategory(defaultPointsConfig(), 'chitchat')!;
const CALLS = 6 * 3 * chitchat.points.length * 2; // records × C(3,2) × points × orders

function expectedPrompt(r: FixtureRecord, first: number, second: number, pointZh: string): string {
  return `给定提问和两个回复，判断回复1和回复2在【${pointZh}】方面哪个更好。\n【提问】：${r.src.at(-1)}\n【回复1】：${r.response[first]}\n【回复2】：${r.response[second]}`;
}

/** What the fake judge's behaviour implies, pair by pair: the counts a correct job must arrive at. */
function expectedCounts(rs: FixtureRecord[], points = chitchat.points): { consistent: number; inconsistent: number; invalid: number } {
  const c = { consistent: 0, inconsistent: 0, invalid: 0 };
  for (const r of rs) {
    for (let a = 0; a < r.response.length; a++) {
      for (let b = a + 1; b < r.response.length; b++) {
        for (const p of points) {
          const j = judgeOf(p.zh, r.response[a], r.response[b], BIAS, INVALID);
          c[j.kind === 'winner' ? 'consistent' : j.kind === 'bias' ? 'inconsistent' : 'invalid']++;
        }
      }
    }
  }
  return c;
}

const fast = { baseDelayMs: 5, maxDelayMs: 20 };

async function withServer<T>(options: FakeJudgeOptions, fn: (s: FakeJudgeServer) => Promise<T>): Promise<T> {
  const s = await FakeJudgeServer.start({ biasShare: BIAS, invalidShare: INVALID, ...options });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

function labelsOf(store: string): MergedLabel[] {
  return mergedLabels(readStore(store));
}

void describe('labelling job', () => {
  let dir: string;
  let file: string;
  let dataset: Dataset;
  let reference: MergedLabel[];

  const job = (server: FakeJudgeServer, store: string, extra: Partial<LabelJobOptions> = {}): LabelJobOptions => ({
    dataset,
    provider: new OpenAIProvider({ baseUrl: server.url, model: 'fake-judge', timeoutMs: 2000 }),
    store,
    points: defaultPointsConfig(),
    templates: DEFAULT_TEMPLATES.zh,
    concurrency: 4,
    retry: fast,
    ...extra,
  });

  before(async () => {
    dir = tempDir();
    file = writeDataset(dir, records);
    dataset = await Dataset.open(file);
  });
  after(() => dataset.close());

  void it('asks every pair in both orders with the exact prompts, keeps only consistent verdicts, records the rest', async () => {
    const store = join(dir, 'full.labels.jsonl');
    const events: JobEvent['type'][] = [];
    const summary = await withServer({}, async (server) => {
      const s = await runLabelJob(job(server, store, { onEvent: (e) => events.push(e.type) }));
      // Exactly the paper's prompts, each once, both orders of every pair.
      const expected: string[] = [];
      for (const r of records)
        for (let a = 0; a < 3; a++)
          for (let b = a + 1; b < 3; b++) for (const p of chitchat.points) expected.push(expectedPrompt(r, a, b, p.zh), expectedPrompt(r, b, a, p.zh));
      assert.deepEqual(server.requests.map((q) => q.prompt).sort(), expected.sort());
      assert.ok(server.requests.every((q) => q.model === 'fake-judge' && q.authorization === undefined));
      return s;
    });
    assert.equal(summary.status, 'completed');
    assert.equal(summary.calls, CALLS);
    assert.equal(summary.remaining, 0);
    assert.deepEqual([events[0], events[1], events.at(-1)], ['plan', 'phase', 'done']);

    const contents = readStore(store);
    assert.equal(contents.calls.size, CALLS);
    assert.equal(contents.labels.size, CALLS / 2);
    const exp = expectedCounts(records);
    assert.ok(exp.consistent > 0 && exp.inconsistent > 0 && exp.invalid > 0, 'the fixture exercises all three outcomes');
    const report = buildReport(contents, { dataset });
    assert.deepEqual({ consistent: report.totals.consistent, inconsistent: report.totals.inconsistent, invalid: report.totals.invalid }, exp);
    assert.equal(report.totals.asked, CALLS / 2);
    assert.equal(report.totals.kept, exp.consistent);
    assert.deepEqual(report.rows.map((r) => r.point).sort(), chitchat.points.map((p) => p.id).sort());
    // Each kept label names the response the judge prefers.
    for (const l of labelsOf(store)) {
      if (l.result !== 'consistent') continue;
      const r = records[l.index];
      const j = judgeOf(chitchat.points.find((p) => p.id === l.point)!.zh, r.response[l.a], r.response[l.b], BIAS, INVALID);
      assert.equal(j.kind === 'winner' && r.response.indexOf(j.text), l.winner);
    }
    // Raw replies and verdicts are stored for the inconsistent and invalid ones too.
    const call = [...contents.calls.values()][0];
    for (const k of [
      'record',
      'a',
      'b',
      'point',
      'order',
      'provider',
      'model',
      'template',
      'reply',
      'verdict',
      'ts',
      'promptTokens',
      'completionTokens',
    ] as const)
      assert.ok(k in call, k);
    assert.equal(call.template, 'dmoerm-zh-1');
    reference = labelsOf(store);
  });

  void it('survives 429 (with and without Retry-After), 500/503, timeouts, resets, malformed and empty replies with the same labels', async () => {
    const store = join(dir, 'faults.labels.jsonl');
    const faults: Record<number, Fault> = {
      2: { kind: 'status', status: 429, retryAfter: '1' },
      5: { kind: 'status', status: 429 },
      7: { kind: 'status', status: 500 },
      9: { kind: 'status', status: 503, retryAfter: '0' },
      11: { kind: 'hang' },
      13: { kind: 'reset' },
      15: { kind: 'malformed' },
      17: { kind: 'no-content' },
      19: { kind: 'empty' },
    };
    const retries: number[] = [];
    const summary = await withServer({ faults: ({ n }) => faults[n] }, async (server) => {
      const s = await runLabelJob(
        job(server, store, {
          provider: new OpenAIProvider({ baseUrl: server.url, model: 'fake-judge', timeoutMs: 300 }),
          onEvent: (e) => e.type === 'retry' && retries.push(e.delayMs),
        }),
      );
      assert.equal(server.answered().length, CALLS, 'every task answered exactly once');
      assert.equal(new Set(server.answered().map((q) => q.prompt)).size, CALLS);
      return s;
    });
    assert.equal(summary.status, 'completed');
    assert.equal(summary.retries, 9);
    assert.equal(summary.failedCalls, 0);
    assert.ok(
      retries.some((d) => d >= 1000),
      'Retry-After: 1 honoured',
    );
    assert.deepEqual(labelsOf(store), reference);
  });

  void it("cancelled mid-run and resumed: no stored call is asked again, and the labels equal an uninterrupted run's", async () => {
    const store = join(dir, 'resume.labels.jsonl');
    await withServer({ latencyMs: 2 }, async (server) => {
      const controller = new AbortController();
      let progress = 0;
      const first = await runLabelJob(
        job(server, store, { signal: controller.signal, onEvent: (e) => e.type === 'progress' && ++progress === 50 && controller.abort() }),
      );
      assert.equal(first.status, 'cancelled');
      const stored = readStore(store);
      assert.ok(stored.calls.size >= 50 && stored.calls.size < CALLS, String(stored.calls.size));
      const before = server.requests.length;

      const second = await runLabelJob(job(server, store));
      assert.equal(second.status, 'completed');
      assert.equal(second.alreadyStored, stored.calls.size);
      assert.equal(second.calls, CALLS - stored.calls.size);
      // No prompt answered and stored in the first run was sent again.
      const storedPrompts = new Set(
        [...stored.calls.values()].map((c) =>
          expectedPrompt(records[c.index], c.order === 'ab' ? c.a : c.b, c.order === 'ab' ? c.b : c.a, chitchat.points.find((p) => p.id === c.point)!.zh),
        ),
      );
      const resent = server.requests.slice(before).filter((q) => storedPrompts.has(q.prompt));
      assert.deepEqual(resent, []);
    });
    assert.deepEqual(labelsOf(store), reference);
  });

  void it('--max-calls stops after N calls, and the next run goes on', async () => {
    const store = join(dir, 'max.labels.jsonl');
    await withServer({}, async (server) => {
      const first = await runLabelJob(job(server, store, { maxCalls: 10 }));
      assert.equal(first.status, 'max-calls');
      assert.equal(first.calls, 10);
      assert.equal(server.requests.length, 10);
      assert.equal(first.remaining, CALLS - 10);
      const second = await runLabelJob(job(server, store));
      assert.equal(second.calls, CALLS - 10);
    });
    assert.deepEqual(labelsOf(store), reference);
  });

  void it('stops at once on 401 and reports it; gives failed calls back for the next run', async () => {
    const store = join(dir, 'auth.labels.jsonl');
    await withServer({ faults: () => ({ kind: 'status', status: 401 }) }, async (server) => {
      const s = await runLabelJob(job(server, store));
      assert.equal(s.status, 'failed');
      assert.match(s.error!, /401.*API key/);
      assert.ok(server.requests.length <= 4);
      assert.equal(readStore(store).calls.size, 0);
    });
    await withServer({ faults: ({ n }) => (n <= 3 ? { kind: 'status', status: 503 } : undefined) }, async (server) => {
      const s = await runLabelJob(job(server, store, { concurrency: 1, retry: { ...fast, maxAttempts: 1 }, maxCalls: 5 }));
      assert.equal(s.failedCalls, 3);
      assert.equal(s.calls, 2);
      assert.equal(server.requests.length, 5);
    });
  });

  void it('estimates calls and tokens before starting, for this run and the full dataset', async () => {
    await withServer({}, async (server) => {
      const o = job(server, join(dir, 'plan.labels.jsonl'), { limitRecords: 2, pricing: { promptPer1k: 1 } });
      const plan = planLabelJob(o);
      assert.equal(plan.planned.calls, 2 * 3 * 5 * 2);
      assert.equal(plan.full.calls, CALLS);
      assert.equal(plan.remaining.calls, plan.planned.calls);
      assert.ok(plan.planned.promptTokens > 0 && plan.full.promptTokens > plan.planned.promptTokens * 2.5);
      assert.equal(plan.planned.cost!.toFixed(3), ((plan.planned.promptTokens + plan.planned.completionTokens) / 1000).toFixed(3));
      // The closed-form estimate equals the estimate of every rendered prompt.
      const { approxTokens } = await import('../../../src/core/labelling/estimate');
      let exact = 0;
      for (const r of records.slice(0, 2))
        for (let a = 0; a < 3; a++)
          for (let b = a + 1; b < 3; b++)
            for (const p of chitchat.points) exact += approxTokens(expectedPrompt(r, a, b, p.zh)) + approxTokens(expectedPrompt(r, b, a, p.zh));
      assert.ok(Math.abs(plan.planned.promptTokens - exact) <= plan.planned.calls, `${plan.planned.promptTokens} vs ${exact}`);
      assert.equal(server.requests.length, 0);
    });
  });

  void it('classifies records without a category first (router labels), then labels their points', async () => {
    const unlabelled = syntheticRecords(3, 2, [undefined]);
    const d2 = tempDir();
    const ds = await Dataset.open(writeDataset(d2, unlabelled));
    const r = compilePointsConfig('{ "uncategorised": "classify" }');
    assert.ok(r.ok);
    const points: PointsConfig = r.config;
    const store = join(d2, 'labels.jsonl');
    try {
      await withServer(
        { classify: (prompt) => (prompt.includes('问题1') ? '这是文本创作。' : prompt.includes('问题2') ? '我不知道' : '闲聊') },
        async (server) => {
          const s = await runLabelJob({ ...job(server, store), dataset: ds, points });
          assert.equal(s.status, 'completed');
          const c = readStore(store);
          assert.deepEqual([...c.categories.values()].map((l) => l.category).sort(), ['chitchat', 'text creation', null].sort());
          // chitchat: 5 points, text creation: 5 points, unparsed: skipped. One pair each.
          assert.equal(c.calls.size, 2 * 5 * 2);
          assert.equal(server.requests.length, 3 + 20);
          const again = await runLabelJob({ ...job(server, store), dataset: ds, points });
          assert.equal(again.calls, 0);
          assert.equal(server.requests.length, 23);
        },
      );
    } finally {
      ds.close();
    }
  });

  void it('attaches history only when asked, under its own setup key', async () => {
    const multi: FixtureRecord[] = [{ src: ['我是小明', '陪我聊聊'], tgt: ['你好小明'], response: ['好呀', '不要'], label: 'chitchat' }];
    const d2 = tempDir();
    const ds = await Dataset.open(writeDataset(d2, multi));
    try {
      await withServer({}, async (server) => {
        await runLabelJob({ ...job(server, join(d2, 'h.jsonl')), dataset: ds });
        assert.ok(server.requests.every((q) => !q.prompt.includes('对话历史') && q.prompt.includes('【提问】：陪我聊聊\n')));
        const s = await runLabelJob({ ...job(server, join(d2, 'h.jsonl')), dataset: ds, attachHistory: true });
        assert.equal(s.calls, 10, 'a different setup is labelled again');
        assert.ok(server.requests.slice(10).every((q) => q.prompt.includes('【对话历史】：\n用户：我是小明\n助手：你好小明\n【提问】：陪我聊聊\n')));
      });
    } finally {
      ds.close();
    }
  });

  void it('a torn last line is ignored and the store stays readable; a second writer is refused', async () => {
    const store = join(dir, 'torn.labels.jsonl');
    await withServer({}, async (server) => {
      await runLabelJob(job(server, store, { maxCalls: 20 }));
      const text = readFileSync(store, 'utf8');
      const lines = text.trimEnd().split('\n');
      // Cut the last line in half, as a crash in the middle of a write would.
      writeFileSync(store, lines.slice(0, -1).join('\n') + '\n' + lines.at(-1)!.slice(0, 40));
      const torn = readStore(store);
      assert.equal(torn.ignoredLines, 1);
      const lock = LabelStore.open(store);
      try {
        await assert.rejects(
          runLabelJob(job(server, store)).then((s: JobSummary) => {
            if (s.status === 'failed') throw new LockedError(s.error);
          }),
          LockedError,
        );
      } finally {
        lock.close();
      }
      const s = await runLabelJob(job(server, store));
      assert.equal(s.status, 'completed');
      const after = readStore(store);
      assert.equal(after.ignoredLines, 1, 'the torn line is still ignored, nothing glued to it');
      assert.equal(after.calls.size, CALLS);
    });
    assert.deepEqual(labelsOf(store), reference);
  });

  void it('applies the edits journal: a dropped record is never sent to the judge, a stale drop is not applied', async () => {
    const edited = writeDataset(tempDir(), records);
    const d = await Dataset.open(edited);
    try {
      const edit = (index: number, hash = contentHash(d.raw(index))) => ({ kind: 'drop' as const, record: d.read(index).record!.id, hash, line: index + 1 });
      const journal = journalFileFor(edited);
      appendToJournal(journal, [edit(1), edit(4, 'made-on-other-text')]);
      const store = join(dir, 'edits.labels.jsonl');
      await withServer({}, async (server) => {
        const o = job(server, store, { dataset: d, edits: readJournal(journal) });
        const plan = planLabelJob(o);
        assert.equal(plan.records.dropped, 1);
        assert.equal(plan.records.labelled, records.length - 1);
        assert.equal(plan.staleEdits, 1);
        assert.equal(plan.planned.calls, CALLS - 3 * 5 * 2);
        const s = await runLabelJob(o);
        assert.equal(s.status, 'completed');
        assert.equal(s.calls, CALLS - 3 * 5 * 2);
        const sent = server.requests.map((q) => q.prompt);
        assert.ok(!sent.some((p) => records[1].response.some((r) => p.includes(r))), 'no prompt of the dropped record');
        assert.ok(
          sent.some((p) => p.includes(records[4].response[0])),
          'the stale drop is not applied',
        );
        // Records are named by the same ids as without edits: the labels are the uninterrupted run's, less record 1's.
        assert.deepEqual(
          labelsOf(store),
          reference.filter((l) => l.index !== 1),
        );
        // Without the journal (--no-edits), the dropped record is asked about and nothing else.
        const all = await runLabelJob(job(server, store, { dataset: d }));
        assert.equal(all.calls, 3 * 5 * 2);
      });
    } finally {
      d.close();
    }
  });

  void it('never writes the API key into the store', async () => {
    const store = join(dir, 'key.labels.jsonl');
    await withServer({ faults: ({ n }) => (n === 1 ? { kind: 'status', status: 500, body: 'oops' } : undefined) }, async (server) => {
      await runLabelJob(
        job(server, store, { provider: new OpenAIProvider({ baseUrl: server.url, model: 'fake-judge', apiKey: 'sk-TOPSECRET-123' }), maxCalls: 6 }),
      );
      assert.ok(server.requests.every((q) => q.authorization === 'Bearer sk-TOPSECRET-123'));
    });
    appendFileSync(store, '');
    assert.ok(!readFileSync(store, 'utf8').includes('TOPSECRET'));
  });
});
