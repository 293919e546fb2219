import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

/** Issue 12: no command destroys its input, hangs, or passes control characters on to the terminal. */

const cli = resolve(__dirname, '..', '..', 'cli.js');
const repo = resolve(__dirname, '..', '..', '..');
const sample = join(repo, 'test', 'fixtures', 'samples', 'pandalm.sample.jsonl');
const original = readFileSync(sample);
const tmp = mkdtempSync(join(tmpdir(), 'rl-cli-hard-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: tmp, encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A fresh copy of the sample dataset in its own folder. */
function dataset(name: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  const file = join(dir, 'data.jsonl');
  copyFileSync(sample, file);
  return file;
}

function refused(r: { code: number | null; stderr: string }, re: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, re);
}

void describe('outputs never overwrite inputs', () => {
  void it('convert refuses its input as --out, also through a symlink or a hard link', () => {
    const file = dataset('convert');
    refused(run('convert', file, '--out', file), /^rewardlens: .*data\.jsonl: is also an input of this command/);
    const link = join(tmp, 'convert', 'link.jsonl');
    symlinkSync(file, link);
    refused(run('convert', file, '--out', link), /link\.jsonl: is also an input/);
    refused(run('convert', link, '--out', file), /data\.jsonl: is also an input/);
    const hard = join(tmp, 'convert', 'hard.jsonl');
    linkSync(file, hard);
    refused(run('convert', file, '--out', hard), /hard\.jsonl: is also an input/);
    assert.deepEqual(readFileSync(file), original);
    const ok = run('convert', file, '--out', join(tmp, 'convert', 'out.jsonl'));
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(
      readdirSync(join(tmp, 'convert')).filter((n) => n.endsWith('.tmp')),
      [],
      'no temporary file is left behind',
    );
  });

  void it('label --export refuses the dataset, its label store and any other label store', () => {
    const file = dataset('label');
    const store = join(tmp, 'label', 'store');
    const made = run('labels-from-ratings', file, '--source', 'gpt-4', '--store', store);
    assert.equal(made.code, 0, made.stderr);
    const storeFile = join(store, 'data.jsonl.labels.jsonl');
    writeFileSync(storeFile, '{"type":"category","key":"k","setup":"s","record":"r","index":0}\n');
    const paid = readFileSync(storeFile);
    refused(run('label', file, '--report-only', '--store', store, '--export', file), /data\.jsonl: is also an input/);
    refused(run('label', file, '--report-only', '--store', store, '--export', storeFile), /labels\.jsonl: is also an input/);
    const other = join(tmp, 'label', 'other.jsonl');
    copyFileSync(storeFile, other);
    refused(run('label', file, '--report-only', '--store', store, '--export', other), /other\.jsonl: is a label store/);
    refused(run('labels-from-ratings', file, '--source', 'gpt-4', '--store', store, '--export', file), /is also an input/);
    refused(run('convert', file, '--out', other), /other\.jsonl: is a label store/);
    refused(run('label', file, '--report-only', '--store', join(tmp, 'label', 'stroe')), /stroe\/data\.jsonl\.labels\.jsonl: no label store here/);
    assert.deepEqual(readFileSync(file), original);
    assert.deepEqual(readFileSync(storeFile), paid);
  });

  void it('export-dataset and convert refuse an edits journal, by its name or by its lines', () => {
    const file = dataset('journal');
    const journal = join(tmp, 'journal', '.rewardlens', 'data.jsonl.edits.jsonl');
    mkdirSync(join(tmp, 'journal', '.rewardlens'));
    const line = '{"kind":"note","seq":1,"record":"r","hash":"h","line":1,"note":"keep me","ts":"2026-01-01T00:00:00Z"}\n';
    writeFileSync(journal, line);
    refused(run('export-dataset', file, '--out', journal), /data\.jsonl\.edits\.jsonl: is an edits journal/);
    refused(run('convert', file, '--out', journal), /data\.jsonl\.edits\.jsonl: is an edits journal/);
    const copy = join(tmp, 'journal', 'curation-backup.txt');
    writeFileSync(copy, line);
    refused(run('export-dataset', file, '--out', copy), /curation-backup\.txt: is an edits journal/);
    assert.equal(readFileSync(journal, 'utf8'), line);
    assert.equal(readFileSync(copy, 'utf8'), line);
    // A journal line that cannot be read is said, not skipped in silence.
    writeFileSync(journal, `GARBAGE\n${line}`);
    const ok = run('export-dataset', file, '--out', join(tmp, 'journal', 'out.jsonl'));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /data\.jsonl\.edits\.jsonl: 1 unreadable line ignored \(torn by a crash, or not a journal line\)/);
  });

  void it('score loads the model it is given: a manifest of another file, or a corrupt model, is refused', () => {
    const dir = join(tmp, 'score-model');
    mkdirSync(dir);
    for (const ext of ['onnx', 'manifest.json', 'tokenizer.json']) copyFileSync(join(repo, 'models', 'demo', `model.${ext}`), join(dir, `model.${ext}`));
    copyFileSync(join(dir, 'model.manifest.json'), join(dir, 'other.manifest.json'));
    copyFileSync(join(dir, 'model.tokenizer.json'), join(dir, 'other.tokenizer.json'));
    writeFileSync(join(dir, 'other.onnx'), 'not a model');
    const records = dataset('score-records');
    refused(run('score', join(dir, 'other.onnx'), records), /other\.onnx: its manifest other\.manifest\.json describes model\.onnx, not this file/);
    const bytes = readFileSync(join(dir, 'model.onnx'));
    bytes[bytes.length >> 1] ^= 1;
    writeFileSync(join(dir, 'model.onnx'), bytes);
    refused(run('score', join(dir, 'model.onnx'), records), /model\.onnx: its SHA-256 is not the one its manifest records/);
  });

  void it('score says which records it left out as malformed (file and line), in text and --json', () => {
    const lines = readFileSync(sample, 'utf8').split('\n').filter(Boolean);
    const torn = join(tmp, 'torn.jsonl');
    writeFileSync(torn, lines.slice(0, 3).join('\n') + '\n' + lines[3].slice(0, 40));
    const model = join(repo, 'models', 'demo', 'model.onnx');
    const text = run('score', model, torn);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /torn\.jsonl: 1 malformed record left out \(line 4: /);
    const json = run('score', model, torn, '--json');
    assert.match((JSON.parse(json.stdout) as { malformedNote?: string }).malformedNote ?? '', /line 4/);
  });

  void it('a flag that takes one value is refused when given twice (the first, hidden, may be the mistake)', () => {
    const file = dataset('twice');
    const [a, b] = [join(tmp, 'twice', 'a.jsonl'), join(tmp, 'twice', 'b.jsonl')];
    refused(run('export-dataset', file, '--out', a, '--out', b), /--out is given twice \(".*a\.jsonl", then ".*b\.jsonl"\): give it once/);
    refused(run('export-dataset', file, '--out', a, '--filter', '&&&'), /filter: "&&&" holds no KEY=VALUE clause/);
    assert.ok(!existsSync(a) && !existsSync(b));
    refused(run('train', file, '--method', 'single', '--out', join(tmp, 'twice', 'r'), '--preset', 'huge', '--preset', 'tiny'), /--preset is given twice/);
  });

  void it('export refuses to write its manifest over an input', () => {
    const runDir = join(tmp, 'export-run');
    mkdirSync(runDir);
    writeFileSync(join(runDir, 'run.json'), '{}\n');
    const points = join(tmp, 'm.manifest.json');
    writeFileSync(points, '{}');
    refused(run('export', runDir, '--out', join(tmp, 'm.onnx'), '--points', points), /m\.manifest\.json: is also an input/);
    assert.equal(readFileSync(points, 'utf8'), '{}');
  });

  void it('train refuses a dataset or another run as --out', () => {
    const file = dataset('train');
    refused(run('train', file, '--method', 'single', '--out', file), /is a file, not a run folder/);
    const other = join(tmp, 'train', 'other-run');
    mkdirSync(other);
    writeFileSync(join(other, 'run.json'), '{}\n');
    refused(run('train', file, '--method', 'single', '--out', other, '--base-run', other), /other-run: is also an input/);
    // The engine's refusals after its backend line (stderr): exit 2 and one line naming the folder and what differs.
    const last = (r: { code: number | null; stderr: string }): string => {
      assert.equal(r.code, 2, r.stderr);
      return r.stderr.trim().split('\n').pop() ?? '';
    };
    assert.match(
      last(run('train', file, '--method', 'single', '--out', other)),
      /other-run: holds a run with another configuration \(.*method: absent in the folder, "single" now/,
    );
    const one = join(tmp, 'train', 'one.jsonl');
    writeFileSync(one, '{"prompt":"hi","chosen":"hello","rejected":"go away"}\n');
    const tiny = run('train', one, '--method', 'single', '--preset', 'tiny', '--out', join(tmp, 'train', 'one-run'), '--set', 'maxSteps.base=1');
    assert.equal(tiny.code, 0, tiny.stderr);
    assert.match(tiny.stderr, /one\.jsonl: only 1 training pair \(fewer than minPairs, 16\)/);
    const empty = join(tmp, 'train', 'empty-base');
    mkdirSync(empty);
    assert.match(last(run('train', file, '--method', 'single', '--out', join(tmp, 'train', 'r'), '--base', empty)), /empty-base\/config\.json: not found/);
  });
});

void describe('no command hangs', () => {
  void it('a FIFO is refused before it is opened', (t) => {
    const fifo = join(tmp, 'fifo.jsonl');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return t.skip('no mkfifo here');
    for (const args of [
      ['index', fifo],
      ['convert', fifo, '--out', join(tmp, 'x.jsonl')],
      ['train', fifo, '--method', 'single', '--out', join(tmp, 'r')],
      ['score', fifo, sample],
    ]) {
      refused(run(...args), /fifo\.jsonl: not a regular file \(a FIFO\/pipe\); save it to a file first/);
    }
  });

  void it("an --out folder that cannot be created ends the run (Node's recursive mkdir spun forever on /proc)", (t) => {
    if (!existsSync('/proc/self')) return t.skip('no /proc here');
    refused(run('train', sample, '--method', 'single', '--preset', 'tiny', '--out', '/proc/rl-run'), /\/proc\/rl-run: cannot create folder \/proc\/rl-run/);
    refused(run('labels-from-ratings', sample, '--source', 'gpt-4', '--store', '/proc/rl-store'), /cannot create folder \/proc\/rl-store/);
  });
});

void describe('signals', () => {
  void it('SIGTERM ends a training run under way with exit 130, leaving a run folder (or nothing) behind', async () => {
    const file = dataset('signal');
    const out = join(tmp, 'signal', 'run');
    const child = spawn(process.execPath, [cli, 'train', file, '--method', 'single', '--preset', 'tiny', '--out', out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const code = await new Promise<number | null>((done) => {
      const hang = setTimeout(() => child.kill('SIGKILL'), 120_000);
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        // Once the backend is up the run is under way: stop it.
        if (/backend:/.test(stderr) && child.exitCode === null && !child.killed) child.kill('SIGTERM');
      });
      child.on('exit', (c) => {
        clearTimeout(hang);
        done(c);
      });
    });
    assert.equal(code, 130, stderr);
    assert.ok(existsSync(join(out, 'run.json')) || readdirSync(out).length === 0, 'the run folder holds a run or nothing');
  });
});

void describe('errors and flags', () => {
  void it('errno failures read as `<file>: <reason>` with exit 2', () => {
    refused(run('index', join(sample, 'x')), /pandalm\.sample\.jsonl\/x: a part of the path is a file, not a folder$/m);
    refused(run('index', tmp), /is a folder, not a file/);
    const loop = join(tmp, 'loop.jsonl');
    symlinkSync('loop.jsonl', loop);
    refused(run('index', loop), /loop\.jsonl: too many symbolic links/);
  });

  void it("a dataset or model the engine cannot use is the file's error (exit 2), not an internal one", () => {
    const empty = join(tmp, 'empty.jsonl');
    writeFileSync(empty, '');
    const fields = join(tmp, 'unknown-fields.jsonl');
    writeFileSync(fields, '{"foo":1,"bar":2}\n');
    for (const file of [empty, fields]) {
      refused(
        run('train', file, '--method', 'single', '--preset', 'tiny', '--out', join(tmp, `run-${file.length}`), '-q'),
        /^rewardlens: .*jsonl: (no usable preference pairs|no adapter recognises|empty file, no records)/,
      );
    }
    const model = join(tmp, 'fake.onnx');
    writeFileSync(model, 'not onnx');
    writeFileSync(
      join(tmp, 'fake.manifest.json'),
      JSON.stringify({ format: 'rewardlens-onnx', version: 1, model: 'fake.onnx', tokenizer: 'none.json', modelSha256: 'x' }),
    );
    refused(run('score', model, sample), /none\.json: cannot read the tokenizer/);
  });

  void it('negative numbers get the flag\'s range, not "ambiguous"; --workers is bounded', () => {
    refused(
      run('train', sample, '--method', 'single', '--out', join(tmp, 'neg'), '--max-minutes', '-1'),
      /--max-minutes must be a positive number of minutes, not "-1"/,
    );
    refused(run('index', sample, '--workers', '300'), /--workers must be a whole number from 1 to 64, not "300"/);
    refused(run('index', sample, '--workers', '-2'), /--workers must be a whole number from 1 to 64, not "-2"/);
  });

  void it("COMMAND --help prints that command's usage and exits 0; --version prints the version", () => {
    const label = run('label', '--help');
    assert.equal(label.code, 0, label.stderr);
    assert.match(label.stdout, /rewardlens label FILE --report-only/);
    const index = run('index', '--help');
    assert.equal(index.code, 0, index.stderr);
    assert.match(index.stdout, /^Usage:\n {2}rewardlens index FILE/);
    assert.doesNotMatch(index.stdout, /rewardlens train/);
    const v = run('--version');
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});

void describe('dataset text reaches the terminal escaped', () => {
  void it('index, the no-adapter field list and parse errors show control characters as \\x1b', () => {
    const file = join(tmp, 'ansi.jsonl');
    writeFileSync(file, '{"prompt":"a","chosen":"b","rejected":"c","category":"x\\u001b]0;pwned\\u0007\\u001b[2J\\u009b"}\n');
    const r = run('index', file);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes('x\\x1b]0;pwned\\x07\\x1b[2J\\u{9b}'), r.stdout);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(r.stdout, /[\u001b\u0007\u009b]/);
    const fields = join(tmp, 'fields.jsonl');
    writeFileSync(fields, '{"\\u001b[2Jweird":1}\n');
    const f = run('index', fields);
    assert.equal(f.code, 2);
    assert.match(f.stderr, /\\x1b\[2Jweird/);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(f.stderr, /\u001b/);
  });
});
