import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

// The built CLI beside this bundle (dist/test/unit → dist/cli.js), run as a user would.
const cli = resolve(__dirname, '..', '..', 'cli.js');
const repo = resolve(__dirname, '..', '..', '..');
const samples = join(repo, 'test', 'fixtures', 'samples');
const shared = resolve(repo, '..', 'shared', 'data');
const tmp = mkdtempSync(join(tmpdir(), 'rl-cli-'));

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function indexJson(file: string, ...args: string[]): Record<string, unknown> {
  const r = run('index', file, '--json', ...args);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

void describe('rewardlens CLI', () => {
  void it('index --json prints the documented keys', () => {
    const out = indexJson(join(samples, 'hh-rlhf-harmless.sample.jsonl'));
    for (const key of [
      'file',
      'format',
      'records',
      'malformed',
      'problems',
      'categories',
      'avgTurns',
      'responsesPerRecord',
      'preferencePairs',
      'duplicatePrompts',
    ]) {
      assert.ok(key in out, `missing ${key}`);
    }
    assert.equal(out.format, 'hh-rlhf');
    assert.equal(out.records, 200);
    assert.equal(out.preferencePairs, 200);
    assert.deepEqual(out.responsesPerRecord, { min: 2, max: 2, mean: 2 });
  });

  void it('index --offsets-only --json prints {records} for JSONL and JSON arrays', () => {
    for (const [file, records] of [
      ['pandalm.sample.jsonl', 150],
      ['llamafactory-dpo-zh.sample.json', 40],
    ] as const) {
      const r = run('index', join(samples, file), '--offsets-only', '--json');
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { records: number }).records, records);
    }
  });

  void it('malformed records exit 0 and are listed; unreadable input and bad mappings exit 2 with one line', () => {
    const file = join(tmp, 'mixed.jsonl');
    writeFileSync(file, '{"prompt":"a","chosen":"b","rejected":"c"}\n{"prompt": "tru\n');
    const out = indexJson(file);
    assert.equal(out.malformed, 1);
    assert.deepEqual(
      (out.problems as { line: number }[]).map((p) => p.line),
      [2],
    );

    const missing = run('index', join(tmp, 'nope.jsonl'));
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr.trim().split('\n').length, 1);
    assert.match(missing.stderr, /no such file/);

    const mapping = join(tmp, 'bad.mapping.jsonc');
    writeFileSync(mapping, '{\n  "prompt": "q",\n  "rankng": {}\n}\n');
    const bad = run('index', file, '--schema', mapping);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /bad\.mapping\.jsonc:3:3: .*rankng/);
  });

  void it('convert writes canonical JSONL that indexes back with the same counts', () => {
    const out = join(tmp, 'pandalm.canonical.jsonl');
    const r = run('convert', join(samples, 'pandalm.sample.jsonl'), '--out', out, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { written: number }).written, 150);
    assert.equal(readFileSync(out, 'utf8').trim().split('\n').length, 150);
    const back = indexJson(out);
    assert.equal(back.format, 'canonical');
    assert.equal(back.usable, 150);
    assert.deepEqual(back.categories, indexJson(join(samples, 'pandalm.sample.jsonl')).categories);
  });

  void it('every dataset in ../shared/data, with the counts checked by hand', (t) => {
    if (!existsSync(shared)) {
      t.skip(`${shared} is absent`);
      return;
    }
    const hh = indexJson(join(shared, 'hh-rlhf-harmless', 'test.jsonl'));
    assert.equal(hh.records, 2312);
    assert.equal(hh.malformed, 0);
    const pandalm = indexJson(join(shared, 'pandalm', 'testset-v1.json'));
    assert.equal(pandalm.records, 999);
    assert.equal(pandalm.malformed, 6); // responses that are `true`, reported by line
    assert.equal(Object.keys(pandalm.categories as object).length, 50);
    const llmeval = indexJson(
      join(shared, 'llmeval2-zh', 'human-score', 'Physics_data.json'),
      '--schema',
      join(repo, 'docs', 'examples', 'llmeval2.mapping.jsonc'),
    );
    assert.equal(llmeval.records, 40);
    assert.deepEqual(llmeval.responsesPerRecord, { min: 20, max: 20, mean: 20 });
    for (const file of ['finegrained-rlhf-qa/dev_feedback.json', 'autoj-pairwise/testdata_pairwise.jsonl', 'zh-pairs/medicalgpt_dpo_zh_500.jsonl']) {
      assert.ok((indexJson(join(shared, file)).records as number) > 0, file);
    }
    // Judgement files hold verdicts about another file's records, no responses: refused, by name.
    const judgements = run('index', join(shared, 'pandalm', 'gpt-3.5-turbo-testset-v1.json'));
    assert.equal(judgements.code, 2);
    assert.match(judgements.stderr, /fields: idx, gpt_result/);
  });
});
