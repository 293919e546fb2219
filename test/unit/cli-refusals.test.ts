import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';

// The built CLI beside this bundle (dist/test/unit → dist/cli.js), run as a user would.
const cli = resolve(__dirname, '..', '..', 'cli.js');
const tmp = mkdtempSync(join(tmpdir(), 'rl-cli-refusals-'));

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, content: string | Buffer): string {
  const path = join(tmp, name);
  writeFileSync(path, content);
  return path;
}

const pair = { prompt: 'hi', chosen: 'hello', rejected: 'go away' };

void describe('rewardlens on files that are not lists of records', () => {
  void it('index and convert exit 2 with one line saying what the file is, and write nothing', () => {
    const cases: [string, string | Buffer, RegExp][] = [
      ['notes.txt', 'Dear diary,\nno records today.\n', /^rewardlens: (?:.*\/)?notes\.txt: not JSON: line 1 starts with "Dear diary,"$/],
      ['empty.jsonl', '', /^rewardlens: (?:.*\/)?empty\.jsonl: empty file, no records$/],
      [
        'utf16.jsonl',
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(JSON.stringify(pair), 'utf16le')]),
        /^rewardlens: (?:.*\/)?utf16\.jsonl: UTF-16 \(BOM\) — convert it to UTF-8/,
      ],
      ['object.json', JSON.stringify({ data: [pair, pair] }, null, 2), /^rewardlens: (?:.*\/)?object\.json: a JSON object whose array of records is at `data`/],
      [
        'pretty.jsonl',
        `${JSON.stringify(pair, null, 2)}\n${JSON.stringify(pair, null, 2)}\n`,
        /^rewardlens: (?:.*\/)?pretty\.jsonl: multi-line JSON values \(pretty-printed JSONL\)/,
      ],
    ];
    for (const [name, content, message] of cases) {
      const path = file(name, content);
      const index = run('index', path);
      assert.equal(index.code, 2, `${name}: ${index.stdout}${index.stderr}`);
      assert.equal(index.stdout, '');
      assert.match(index.stderr.trimEnd(), message);
      assert.equal(index.stderr.trimEnd().split('\n').length, 1);
      const out = join(tmp, `${name}.out.jsonl`);
      assert.equal(run('convert', path, '--out', out).code, 2, name);
      assert.ok(!existsSync(out), `${name}: convert wrote ${out}`);
    }
  });

  void it('records of a recognised shape that all fail are refused with the fields, not reported 100% malformed', () => {
    const path = file('labels.jsonl', [1, 2, 3].map((i) => JSON.stringify({ instruction: `q${i}`, output_1: 'a', output_2: 'b', label: 'A>>B' })).join('\n'));
    const r = run('index', path);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^rewardlens: (?:.*\/)?labels\.jsonl: none of the first 3 records can be read as pairwise-label \(fields: instruction, output_1, output_2, label\); line 1: "label" is "A>>B", not a verdict/,
    );
  });

  void it('LLMBar pairs and truncated arrays: usable + malformed == records', () => {
    const llmbar = file('llmbar.jsonl', [1, 2].map((label) => JSON.stringify({ input: 'Say hi', output_1: 'Hi', output_2: 'Bye', label })).join('\n'));
    const read = JSON.parse(run('index', llmbar, '--json').stdout) as Record<string, number>;
    assert.deepEqual([read.records, read.usable, read.malformed, read.preferencePairs], [2, 2, 0, 2]);
    const truncated = file('truncated.json', `[${JSON.stringify(pair)},\n${JSON.stringify(pair).slice(0, 20)}`);
    const r = run('index', truncated, '--json');
    assert.equal(r.code, 0, r.stderr);
    const counts = JSON.parse(r.stdout) as Record<string, number>;
    assert.deepEqual([counts.records, counts.usable, counts.malformed], [2, 1, 1]);
  });
});

void describe('rewardlens flags that would only exhaust memory', () => {
  void it('score --batch/--threads and label --concurrency have ceilings: exit 2 naming the range', () => {
    const data = file('ceilings.jsonl', `${JSON.stringify(pair)}\n`);
    const cases: Array<[string[], RegExp]> = [
      [['score', file('model.onnx', 'not a model'), data, '--batch', '100000000'], /--batch must be an integer from 1 to 4096, not "100000000"/],
      [['score', file('model2.onnx', 'not a model'), data, '--threads', '10000'], /--threads must be an integer from 1 to 256/],
      [['label', data, '--base-url', 'http://127.0.0.1:9', '--model', 'm', '--concurrency', '100000'], /--concurrency must be a whole number from 1 to 256/],
    ];
    for (const [args, message] of cases) {
      const r = run(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
    }
  });
});
