import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { appendToJournal, contentHash, journalFileFor } from '../../../src/core/curation/journal';
import { Dataset } from '../../../src/core/dataset/dataset';
import { defaultPointsConfig, findCategory } from '../../../src/core/labelling/points';
import { buildReport } from '../../../src/core/labelling/report';
import { mergedLabels, readStore, storeFileFor } from '../../../src/core/labelling/store';
import { FakeJudgeServer } from '../../support/fake-judge-server';
import type { FixtureRecord } from '../../support/label-fixtures';
import { syntheticRecords, tempDir, writeDataset } from '../../support/label-fixtures';

// The built CLI beside this bundle (dist/test/unit/labelling → dist/cli.js), run as a user would.
const cli = resolve(__dirname, '..', '..', '..', 'cli.js');
const repo = resolve(__dirname, '..', '..', '..', '..');
const llmeval2 = resolve(repo, '..', 'shared', 'data', 'llmeval2-zh');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Spawns the CLI without blocking this process's event loop (the fake server lives here). */
function runCli(args: string[], options: { env?: Record<string, string>; killWhen?: () => boolean } = {}): Promise<Run> {
  return new Promise((resolveRun) => {
    const env: NodeJS.ProcessEnv = { ...process.env, REWARDLENS_API_KEY: undefined, OPENAI_API_KEY: undefined, ...options.env };
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let timer: NodeJS.Timeout | undefined;
    if (options.killWhen) {
      timer = setInterval(() => {
        if (options.killWhen!()) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 2);
    }
    child.on('close', (code, signal) => {
      if (timer) clearInterval(timer);
      resolveRun({ code, signal, stdout, stderr });
    });
  });
}

const chitchat = findCategory(defaultPointsConfig(), 'chitchat')!;
function promptOf(r: FixtureRecord, first: number, second: number, pointId: string): string {
  const zh = chitchat.points.find((p) => p.id === pointId)!.zh;
  return `给定提问和两个回复，判断回复1和回复2在【${zh}】方面哪个更好。\n【提问】：${r.src.at(-1)}\n【回复1】：${r.response[first]}\n【回复2】：${r.response[second]}`;
}

void describe('rewardlens label (CLI)', () => {
  let server: FakeJudgeServer;
  let dir: string;
  let records: FixtureRecord[];
  let file: string;
  const calls = 20 * 6 * 5 * 2; // records × C(4,2) × points × orders

  before(async () => {
    server = await FakeJudgeServer.start({ biasShare: 0.2, invalidShare: 0.05, latencyMs: 3 });
    dir = tempDir('rl-label-cli-');
    records = syntheticRecords(20, 4, ['闲聊']);
    file = writeDataset(dir, records);
  });
  after(() => server.close());

  const base = (): string[] => ['label', file, '--base-url', server.url, '--model', 'fake', '--concurrency', '8', '--yes'];

  void it('refuses to start paid calls without --yes when no terminal can confirm, and --dry-run only estimates', async () => {
    const r = await runCli(['label', file, '--base-url', server.url, '--model', 'fake', '--store', join(dir, 'none')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /add --yes/);
    const dry = await runCli([
      'label',
      file,
      '--base-url',
      server.url,
      '--model',
      'fake',
      '--dry-run',
      '--json',
      '--limit',
      '5',
      '--price-per-1k',
      '0.01',
      '--store',
      join(dir, 'none'),
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = (JSON.parse(dry.stdout) as { plan: { remaining: { calls: number }; full: { calls: number; cost: number } } }).plan;
    assert.equal(plan.remaining.calls, 5 * 6 * 5 * 2);
    assert.equal(plan.full.calls, calls);
    assert.ok(plan.full.cost > 0);
    assert.equal(server.requests.length, 0);
    const bad = await runCli(['label', file, '--base-url', server.url, '--model', 'fake', '--concurrency', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--concurrency must be a whole number from 1 to 256/);
  });

  void it('exit 1 when calls failed for good (the next run asks them again); a --base-url that is no URL is exit 2 before any call', async () => {
    const failing = await FakeJudgeServer.start({ faults: () => ({ kind: 'status', status: 500 }) });
    try {
      const store = join(dir, 'failing');
      const r = await runCli([
        'label',
        file,
        '--base-url',
        failing.url,
        '--model',
        'fake',
        '--yes',
        '--limit',
        '1',
        '--retries',
        '1',
        '--max-calls',
        '2',
        '--store',
        store,
        '--json',
      ]);
      assert.equal(r.code, 1, r.stderr);
      const summary = (JSON.parse(r.stdout) as { summary: { status: string; failedCalls: number; calls: number } }).summary;
      assert.deepEqual([summary.calls, summary.failedCalls > 0], [0, true]);
    } finally {
      await failing.close();
    }
    const bad = await runCli(['label', file, '--base-url', 'notaurl', '--model', 'fake', '--yes', '--store', join(dir, 'bad-url')]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /--base-url must be an http\(s\) URL, e\.g\. http:\/\/127\.0\.0\.1:8000\/v1, not "notaurl"/);
  });

  void it('the summary prices the calls made at --price-per-1k (their counted tokens), in --json and in text', async () => {
    const args = [...base(), '--limit', '1', '--price-per-1k', '0.5', '--price-per-1k-output', '2'];
    const r = await runCli([...args, '--store', join(dir, 'priced'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const s = (JSON.parse(r.stdout) as { summary: { calls: number; promptTokens: number; completionTokens: number; cost: number } }).summary;
    assert.ok(s.calls > 0 && s.promptTokens > 0);
    assert.ok(Math.abs(s.cost - (s.promptTokens * 0.5 + s.completionTokens * 2) / 1000) < 1e-9, String(s.cost));
    const text = await runCli([...args, '--store', join(dir, 'priced-text')]);
    assert.match(text.stderr, /prompt \+ [\d,]+ completion tokens, cost ≈ \d+\.\d\d/);
  });

  void it('reads the dataset with its edits journal: a dropped record is not planned; --no-edits plans it', async () => {
    const edited = writeDataset(tempDir('rl-label-cli-edits-'), records.slice(0, 3));
    const d = await Dataset.open(edited);
    appendToJournal(journalFileFor(edited), [{ kind: 'drop', record: d.read(1).record!.id, hash: contentHash(d.raw(1)), line: 2 }]);
    d.close();
    const args = ['label', edited, '--base-url', server.url, '--model', 'fake', '--dry-run'];
    const withEdits = await runCli([...args, '--json']);
    assert.equal(withEdits.code, 0, withEdits.stderr);
    const plan = (JSON.parse(withEdits.stdout) as { plan: { records: { dropped: number; labelled: number }; remaining: { calls: number } } }).plan;
    assert.deepEqual([plan.records.dropped, plan.records.labelled, plan.remaining.calls], [1, 2, 2 * 6 * 5 * 2]);
    assert.match((await runCli(args)).stdout, /edits journal: 1 records dropped, not labelled/);
    const noEdits = JSON.parse((await runCli([...args, '--json', '--no-edits'])).stdout) as { plan: typeof plan };
    assert.deepEqual([noEdits.plan.records.dropped, noEdits.plan.records.labelled], [0, 3]);
  });

  void it("kill -9 in the middle of a run, then rerun: no stored call is asked again, labels equal an uninterrupted run's", async () => {
    const reference = join(dir, 'ref');
    const full = await runCli([...base(), '--store', reference, '--json']);
    assert.equal(full.code, 0, full.stderr);
    const out = JSON.parse(full.stdout) as { summary: { calls: number; status: string }; report: { totals: { asked: number; kept: number } } };
    assert.equal(out.summary.status, 'completed');
    assert.equal(out.summary.calls, calls);
    const refLabels = mergedLabels(readStore(storeFileFor(file, reference)));
    assert.equal(refLabels.length, calls / 2);

    const store = join(dir, 'killed');
    const start = server.requests.length;
    const killed = await runCli([...base(), '--store', store], { killWhen: () => server.requests.length - start >= 300 });
    assert.equal(killed.signal, 'SIGKILL');
    const afterKill = readStore(storeFileFor(file, store));
    assert.ok(afterKill.calls.size > 0 && afterKill.calls.size < calls, `${afterKill.calls.size} stored when killed`);
    assert.ok(afterKill.ignoredLines <= 1);
    const firstRun = server.requests.slice(start);
    const storedPrompts = new Set(
      [...afterKill.calls.values()].map((c) => promptOf(records[c.index], c.order === 'ab' ? c.a : c.b, c.order === 'ab' ? c.b : c.a, c.point)),
    );

    const mid = server.requests.length;
    const resumed = await runCli([...base(), '--store', store, '--json']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const secondRun = server.requests.slice(mid);
    assert.deepEqual(
      secondRun.filter((q) => storedPrompts.has(q.prompt)).map((q) => q.prompt),
      [],
      'a stored call was asked again',
    );
    // Only calls in flight at the kill were asked twice.
    const firstPrompts = new Set(firstRun.map((q) => q.prompt));
    assert.ok(secondRun.filter((q) => firstPrompts.has(q.prompt)).length <= 8);
    const final = readStore(storeFileFor(file, store));
    assert.deepEqual(mergedLabels(final), refLabels);
    // The report printed equals the report of the store.
    const report = (JSON.parse(resumed.stdout) as { report: { totals: Record<string, unknown> } }).report;
    const printed = { ...report.totals };
    delete printed.humanAspect;
    delete printed.humanOverall;
    assert.deepEqual(printed, buildReport(final, { setup: 'fake|dmoerm-zh-1|zh|h0' }).totals);
  });

  void it('reads the API key from the environment, sends it, and never prints or stores it', async () => {
    const store = join(dir, 'key');
    const start = server.requests.length;
    const r = await runCli([...base(), '--store', store, '--max-calls', '10', '--json'], { env: { REWARDLENS_API_KEY: 'sk-cli-SECRET-42' } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(server.requests.slice(start).every((q) => q.authorization === 'Bearer sk-cli-SECRET-42'));
    for (const text of [r.stdout, r.stderr, readFileSync(storeFileFor(file, store), 'utf8')]) assert.ok(!text.includes('SECRET'));
    const other = await runCli([...base(), '--store', store, '--max-calls', '2', '--api-key-env', 'MY_KEY'], { env: { MY_KEY: 'sk-other' } });
    assert.equal(other.code, 0, other.stderr);
    assert.equal(server.requests.at(-1)!.authorization, 'Bearer sk-other');
  });

  void it(
    'labels llmeval2-zh end to end (limited), resumes, reports and exports points.jsonl',
    { skip: !existsSync(llmeval2) && 'needs ../shared/data/llmeval2-zh' },
    async () => {
      const physics = join(llmeval2, 'human-score', 'Physics_data.json');
      const store = join(dir, 'llmeval2');
      const args = [
        'label',
        physics,
        '--schema',
        join(repo, 'docs/examples/llmeval2.mapping.jsonc'),
        '--base-url',
        server.url,
        '--model',
        'fake',
        '--concurrency',
        '16',
        '--limit',
        '1',
        '--store',
        store,
        '--yes',
        '--json',
      ];
      const first = await runCli([...args, '--max-calls', '500']);
      assert.equal(first.code, 0, first.stderr);
      const f = JSON.parse(first.stdout) as { plan: { planned: { calls: number }; full: { calls: number } }; summary: { status: string; calls: number } };
      // One record: 20 responses → 190 pairs × 6 objective-QA points × 2 orders.
      assert.equal(f.plan.planned.calls, 190 * 6 * 2);
      assert.ok(f.plan.full.calls > f.plan.planned.calls);
      assert.deepEqual([f.summary.status, f.summary.calls], ['max-calls', 500]);
      const second = await runCli([...args, '--export', join(dir, 'points.jsonl')]);
      assert.equal(second.code, 0, second.stderr);
      const s = JSON.parse(second.stdout) as {
        summary: { status: string; calls: number; alreadyStored: number };
        report: { totals: { asked: number; kept: number; humanAspect?: { n: number } } };
        export: { written: number };
      };
      assert.deepEqual([s.summary.status, s.summary.calls, s.summary.alreadyStored], ['completed', 190 * 12 - 500, 500]);
      assert.equal(s.report.totals.asked, 190 * 6);
      assert.ok(s.report.totals.humanAspect!.n > 0, 'human Correctness stars compared');
      assert.equal(s.export.written, s.report.totals.kept);
      const line = JSON.parse(readFileSync(join(dir, 'points.jsonl'), 'utf8').split('\n')[0]) as Record<string, unknown>;
      assert.deepEqual(Object.keys(line), ['query', 'responses', 'rank', 'point']);
    },
  );

  void it(
    'labels-from-ratings derives point labels from GPT-4 stars without any call',
    { skip: !existsSync(llmeval2) && 'needs ../shared/data/llmeval2-zh' },
    async () => {
      const start = server.requests.length;
      const store = join(dir, 'ratings');
      const gpt = join(llmeval2, 'gpt-score', 'Physics_data.json');
      const args = [
        'labels-from-ratings',
        gpt,
        '--schema',
        join(repo, 'docs/examples/llmeval2-gpt4.mapping.jsonc'),
        '--source',
        'gpt-4',
        '--store',
        store,
        '--json',
      ];
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      const s = JSON.parse(r.stdout) as { written: number; decided: number; ties: number; recordsWithRatings: number };
      assert.equal(s.recordsWithRatings, 40);
      assert.equal(s.written, s.decided + s.ties);
      assert.ok(s.decided > 0 && s.ties > 0);
      assert.equal(server.requests.length, start);
      const again = await runCli(args);
      assert.equal((JSON.parse(again.stdout) as { written: number }).written, 0);
    },
  );
});
