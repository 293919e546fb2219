import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseArgs } from 'node:util';
import { errorReport } from '../../../src/cli/errors';
import { negativeValuesJoined } from '../../../src/cli/args';
import { printable } from '../../../src/cli/format';
import { FileError } from '../../../src/core/io/file-error';
import { checkInput } from '../../../src/core/io/input-file';
import { AtomicFile, assertNotInput, copyFileAtomic, makeDirs, writeFileAtomic } from '../../../src/core/io/safe-output';
import { writeCanonical } from '../../../src/core/dataset/canonical-writer';
import { Dataset } from '../../../src/core/dataset/dataset';
import { exportPointsJsonl } from '../../../src/core/labelling/export';
import { readStore } from '../../../src/core/labelling/store';

const tmp = mkdtempSync(join(tmpdir(), 'rl-safe-output-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const fileError =
  (re: RegExp) =>
  (e: unknown): boolean =>
    e instanceof FileError && re.test(e.message);

void describe('assertNotInput', () => {
  const input = join(tmp, 'in.jsonl');
  writeFileSync(input, 'data\n');

  void it('refuses the input by any path: relative, through a symlink, a hard link', () => {
    assert.throws(() => assertNotInput(input, [input]), fileError(/in\.jsonl: is also an input/));
    assert.throws(() => assertNotInput(relative(process.cwd(), input), [input]), FileError);
    const sym = join(tmp, 'sym.jsonl');
    symlinkSync(input, sym);
    assert.throws(() => assertNotInput(sym, [input]), FileError);
    assert.throws(() => assertNotInput(input, [sym]), FileError);
    const hard = join(tmp, 'hard.jsonl');
    linkSync(input, hard);
    assert.throws(() => assertNotInput(hard, [input]), fileError(/hard\.jsonl: is also an input of this command \(.*in\.jsonl\)/));
  });

  void it('refuses an existing file inside an input folder, accepts new and unrelated files', () => {
    const dir = join(tmp, 'run');
    mkdirSync(dir);
    writeFileSync(join(dir, 'run.json'), '{}');
    assert.throws(() => assertNotInput(join(dir, 'run.json'), [dir]), fileError(/is a file of the input folder/));
    assertNotInput(join(dir, 'new.onnx'), [dir]);
    assertNotInput(join(tmp, 'out.jsonl'), [input, undefined, join(tmp, 'missing')]);
    assertNotInput(join(tmp, 'no', 'such', 'dir', 'out.jsonl'), [input]);
  });
});

void describe('core writers guard their own inputs (the extension calls them too)', () => {
  void it('writeCanonical and exportPointsJsonl refuse the dataset, the store or another label store', async () => {
    const file = join(tmp, 'writers.jsonl');
    const text = '{"prompt":"a","chosen":"b","rejected":"c"}\n';
    writeFileSync(file, text);
    const store = join(tmp, 'writers.labels.jsonl');
    writeFileSync(store, '{"type":"category","key":"k"}\n');
    const other = join(tmp, 'other-store.jsonl');
    writeFileSync(other, '{"type":"label","key":"k2"}\n');
    const dataset = await Dataset.open(file);
    try {
      assert.throws(() => writeCanonical(dataset, file), fileError(/is also an input/));
      for (const out of [file, store]) assert.throws(() => exportPointsJsonl(readStore(store), dataset, out), fileError(/is also an input/));
      assert.throws(() => exportPointsJsonl(readStore(store), dataset, other), fileError(/other-store\.jsonl: is a label store/));
      assert.equal(exportPointsJsonl(readStore(store), dataset, join(tmp, 'points.jsonl')).written, 0);
    } finally {
      dataset.close();
    }
    assert.equal(readFileSync(file, 'utf8'), text);
  });
});

void describe('AtomicFile', () => {
  void it('leaves the old file whole until commit, and removes its temporary file on abort', () => {
    const file = join(tmp, 'atomic.txt');
    writeFileSync(file, 'old');
    const f = new AtomicFile(file);
    f.write('new ');
    assert.equal(readFileSync(file, 'utf8'), 'old');
    f.abort();
    assert.equal(readFileSync(file, 'utf8'), 'old');
    assert.deepEqual(
      readdirSync(tmp).filter((n) => n.endsWith('.tmp')),
      [],
    );
    writeFileAtomic(file, 'new');
    assert.equal(readFileSync(file, 'utf8'), 'new');
    assert.deepEqual(
      readdirSync(tmp).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });

  void it('refuses to rename over a device or a folder (the rename would replace the entry itself)', () => {
    assert.throws(() => new AtomicFile('/dev/null'), fileError(/\/dev\/null: not a regular file/));
    assert.throws(() => new AtomicFile(tmp), fileError(/is a folder, not a file/));
  });

  void it('a folder that is not there is a FileError naming the target', () => {
    assert.throws(() => writeFileAtomic(join(tmp, 'nowhere', 'x.txt'), 'x'), fileError(/nowhere\/x\.txt: cannot write \(no such file or folder\)/));
  });
});

void describe('makeDirs', () => {
  void it('makes missing levels, accepts an existing folder, refuses a file on the way', () => {
    makeDirs(join(tmp, 'a', 'b', 'c'));
    makeDirs(join(tmp, 'a', 'b', 'c'));
    assert.ok(existsSync(join(tmp, 'a', 'b', 'c')));
    writeFileSync(join(tmp, 'plain'), '');
    assert.throws(() => makeDirs(join(tmp, 'plain', 'x')), fileError(/plain\/x: a part of the path is a file, not a folder/));
  });

  void it("a folder mkdir cannot make fails instead of spinning (Node's recursive mkdirSync loops on /proc)", (t) => {
    if (!existsSync('/proc/self')) return t.skip('no /proc here');
    assert.throws(() => makeDirs('/proc/rl-nope/checkpoints'), fileError(/cannot create folder \/proc\/rl-nope/));
  });
});

void describe('checkInput', () => {
  void it('takes regular files and folders where asked, refuses the rest with a reason', (t) => {
    const file = join(tmp, 'ok.jsonl');
    writeFileSync(file, '');
    checkInput(file);
    checkInput(tmp, 'directory');
    assert.throws(() => checkInput(tmp), fileError(/is a folder, not a file/));
    assert.throws(() => checkInput(file, 'directory'), fileError(/is a file, not a folder/));
    assert.throws(() => checkInput(join(tmp, 'missing')), fileError(/missing: no such file or folder/));
    const loop = join(tmp, 'loop');
    symlinkSync('loop', loop);
    assert.throws(() => checkInput(loop), fileError(/too many symbolic links/));
    const fifo = join(tmp, 'fifo');
    if (spawnSync('mkfifo', [fifo]).status !== 0) return t.skip('no mkfifo here');
    assert.throws(() => checkInput(fifo), fileError(/fifo: not a regular file \(a FIFO\/pipe\); save it to a file first/));
  });
});

void describe('CLI text helpers', () => {
  void it('printable escapes C0 (but newline and tab), DEL and C1', () => {
    assert.equal(printable('a\u001b]0;t\u0007b\u001b[2J\u007f\u009b\n\tc'), 'a\\x1b]0;t\\x07b\\x1b[2J\\x7f\\u{9b}\n\tc');
    assert.equal(printable('x\ny\r', false), 'x\\x0ay\\x0d');
    assert.equal(printable('日本語 ok'), '日本語 ok');
  });

  void it('negative numbers stay values of string flags', () => {
    const flags = { 'max-minutes': { type: 'string' }, json: { type: 'boolean' } } as const;
    assert.deepEqual(negativeValuesJoined(['f', '--max-minutes', '-1', '--json'], flags), ['f', '--max-minutes=-1', '--json']);
    assert.deepEqual(negativeValuesJoined(['--json', '-1'], flags), ['--json', '-1']);
    assert.deepEqual(negativeValuesJoined(['--max-minutes', '--json'], flags), ['--max-minutes', '--json']);
  });

  void it("errorReport: exit 2 and one line for the user's errors, 1 for bugs", () => {
    assert.deepEqual(errorReport(new FileError('a.jsonl', 'is a folder, not a file')), { line: 'rewardlens: a.jsonl: is a folder, not a file', code: 2 });
    const enoent = Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), { code: 'ENOENT', path: 'x' });
    assert.deepEqual(errorReport(enoent), { line: 'rewardlens: x: no such file or folder', code: 2 });
    assert.deepEqual(errorReport(new TypeError('cannot read properties of undefined\n  at f')), {
      line: 'rewardlens: cannot read properties of undefined',
      code: 1,
    });
    assert.equal(errorReport(new FileError('a\u001b[2J', 'x\ny')).line, 'rewardlens: a\\x1b[2J: x; y');
    const parse = (argv: string[]): unknown => {
      try {
        parseArgs({ args: argv, options: { out: { type: 'string' } } });
      } catch (e) {
        return e;
      }
      return assert.fail('parsed');
    };
    assert.deepEqual(errorReport(parse(['--bogus'])), {
      line: "rewardlens: --bogus: unknown option (see --help; a file whose name starts with '-' goes after '--')",
      code: 2,
    });
    assert.deepEqual(errorReport(parse(['--out'])), { line: 'rewardlens: --out: needs a value', code: 2 });
    assert.equal(errorReport(parse(['--out', '--x'])).line, "rewardlens: --out: needs a value (one starting with '-' is written --out=VALUE)");
  });
});

void describe('copyFileAtomic', () => {
  void it('a read-only source (a base in a read-only store) gives a copy the run owns, which the next resume can replace', () => {
    const source = join(tmp, 'readonly-tokenizer.json');
    writeFileSync(source, '{"v":1}');
    chmodSync(source, 0o444);
    const copy = join(tmp, 'run-tokenizer.json');
    copyFileAtomic(source, copy);
    assert.equal(readFileSync(copy, 'utf8'), '{"v":1}');
    assert.ok(statSync(copy).mode & 0o200, `mode ${(statSync(copy).mode & 0o777).toString(8)}: the owner can write it`);
    copyFileAtomic(source, copy);
    assert.equal(readFileSync(copy, 'utf8'), '{"v":1}');
  });
});
