import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';

/**
 * Every CLI command on a corpus of bad files and bad flags (issue 12): it ends with 0 or 2, says at most
 * one line on stderr when it exits 2, never prints a stack trace, never hangs and never changes a file it
 * was given. Each case fails before any training or network call.
 */

const cli = resolve(__dirname, '..', '..', 'cli.js');
const repo = resolve(__dirname, '..', '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'rl-cli-fuzz-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const corpus = join(tmp, 'corpus');
mkdirSync(corpus);
const good = join(corpus, 'good.jsonl');
copyFileSync(join(repo, 'test', 'fixtures', 'samples', 'pandalm.sample.jsonl'), good);

/** Deterministic noise: the same bytes on every run, so a failure reproduces. */
function noise(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

const bad: Record<string, string> = {
  empty: join(corpus, 'empty.jsonl'),
  random: join(corpus, 'random.jsonl'),
  utf16: join(corpus, 'utf16.jsonl'),
  ansi: join(corpus, 'ansi.jsonl'),
  folder: join(corpus, 'folder.jsonl'),
  missing: join(corpus, 'missing.jsonl'),
  loop: join(corpus, 'loop.jsonl'),
  flagLike: '--json.jsonl',
};
writeFileSync(bad.empty, '');
writeFileSync(bad.random, noise(4096, 12));
writeFileSync(bad.utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"prompt":"a","chosen":"b","rejected":"c"}\n', 'utf16le')]));
writeFileSync(bad.ansi, '{"\\u001b]0;title\\u0007":1,"\\u001b[2J":2}\n{"prompt": "\u001b[2J\u0007\n');
mkdirSync(bad.folder);
symlinkSync('loop.jsonl', bad.loop);
writeFileSync(join(corpus, bad.flagLike), '{"prompt":"a","chosen":"b","rejected":"c"}\n');
if (spawnSync('mkfifo', [join(corpus, 'fifo.jsonl')]).status === 0) bad.fifo = join(corpus, 'fifo.jsonl');

/** A run folder that is one in name only (run.json, nothing trained). */
const run = join(tmp, 'run');
mkdirSync(run);
writeFileSync(join(run, 'run.json'), '{}\n');
const out = join(tmp, 'out');
mkdirSync(out);
let outs = 0;
const fresh = (ext: string): string => join(out, `o${++outs}${ext}`);

function hashes(): Map<string, string> {
  const m = new Map<string, string>();
  for (const dir of [corpus, run]) {
    for (const name of readdirSync(dir)) {
      const file = join(dir, name);
      if (lstatSync(file).isFile()) m.set(file, createHash('sha256').update(readFileSync(file)).digest('hex'));
    }
  }
  return m;
}

/** Runs the CLI in the corpus folder and checks what every run must satisfy. */
function check(args: string[]): void {
  const before = hashes();
  const r = spawnSync(process.execPath, [cli, ...args], {
    cwd: corpus,
    encoding: 'utf8',
    timeout: 20_000,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const what = `rewardlens ${args.join(' ')}\nstderr: ${r.stderr}`;
  assert.notEqual(r.signal, 'SIGKILL', `hung: ${what}`);
  assert.ok(r.status === 0 || r.status === 2, `exit ${r.status}: ${what}`);
  assert.doesNotMatch(r.stderr, /^\s+at /m, `stack trace: ${what}`);
  if (r.status === 2) {
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    assert.ok(lines.length <= 1, `more than one line on stderr: ${what}`);
    if (lines.length === 1) assert.match(lines[0], /^rewardlens: /, what);
  }
  // eslint-disable-next-line no-control-regex
  assert.doesNotMatch(r.stdout + r.stderr, /[\u001b\u0007]/, `raw control characters printed: ${what}`);
  assert.deepEqual(hashes(), before, `an input changed: ${what}`);
}

void describe('rewardlens CLI on bad files and bad flags', () => {
  for (const [kind, file] of Object.entries(bad)) {
    void it(`${kind} file`, () => {
      const commands: string[][] = [
        ['index', file],
        ['index', file, '--json'],
        ['index', file, '--offsets-only'],
        ['convert', file, '--out', fresh('.jsonl')],
        ['overlap', file, good],
        ['overlap', good, file],
        ['index', good, '--schema', file],
        ['label', file, '--report-only', '--store', out],
        ['label', good, '--report-only', '--store', out, '--points', file],
        ['labels-from-ratings', file, '--source', 'gpt-4', '--store', out],
        ['train', file, '--method', 'single', '--preset', 'tiny', '--out', fresh(''), '--max-minutes', '-1'],
        ['train', good, '--method', 'dmoerm', '--preset', 'tiny', '--out', fresh(''), '--labels', file, '--seed', '-3'],
        ['eval', run, file],
        ['eval', file, good],
        ['export', file, '--out', fresh('.onnx')],
        ['score', file, good],
        ['score', good, file],
      ];
      for (const args of commands) check(args);
    });
  }

  void it('bad files as outputs', () => {
    for (const kind of ['folder', 'fifo', 'loop'] as const) {
      const file = bad[kind];
      if (file === undefined) continue;
      check(['convert', good, '--out', file]);
      check(['label', good, '--report-only', '--store', out, '--export', file]);
    }
    check(['convert', good, '--out', '/dev/null']);
  });

  void it('bad flags', () => {
    const commands: string[][] = [
      [],
      ['frobnicate'],
      ['index'],
      ['index', good, '--bogus'],
      ['index', good, '--workers', '300'],
      ['index', good, '--workers', '-1'],
      ['index', good, '--workers'],
      ['index', good, '--rank-direction', 'sideways'],
      ['convert', good],
      ['overlap', good],
      ['label', good],
      ['label', good, '--dry-run', '--base-url', 'http://127.0.0.1:9/v1', '--model', 'm', '--concurrency', '0', '--store', out],
      ['label', good, '--report-only', '--workers', '1000', '--store', out],
      ['labels-from-ratings', good, '--store', out],
      ['train', good, '--method', 'single', '--out', fresh(''), '--max-minutes', '-1'],
      ['train', good, '--method', 'moe', '--out', fresh('')],
      ['train', good, '--method', 'single', '--out', fresh(''), '--threads', '-2'],
      ['train', good, '--method', 'single', '--out', fresh(''), '--seed', '1e400'],
      ['train', good, '--method', 'single'],
      ['eval', run],
      ['eval', run, good],
      ['export', run],
      ['export', run, '--out', fresh('.bin')],
      ['export', run, '--out', join(good, 'm.onnx')],
      ['export', run, '--out', fresh('.onnx')],
      ['score', good],
      ['score', good, good, '--batch', '-1'],
      ['score', good, good, '--threads', 'x'],
    ];
    for (const args of commands) check(args);
  });

  void it('--help of every command, and --version, exit 0', () => {
    for (const command of ['index', 'convert', 'overlap', 'label', 'labels-from-ratings', 'train', 'eval', 'export', 'score', 'serve']) {
      const r = spawnSync(process.execPath, [cli, command, '--help'], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 0, `${command} --help: ${r.stderr}`);
      assert.match(r.stdout, /Usage|rewardlens/);
    }
    const v = spawnSync(process.execPath, [cli, '--version'], { encoding: 'utf8' });
    assert.equal(v.status, 0);
    assert.equal(v.stdout.trim(), (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version);
    assert.ok(existsSync(good));
  });
});
