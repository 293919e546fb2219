import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { TRAIN_USAGE, TrainUsageError, parseEvalArgs, parseOverrides, parseTrainArgs } from '../../src/cli/train';
import { formatEvalResult, formatTrainEvent } from '../../src/core/training/format';
import { storeFileFor } from '../../src/core/labelling/store';
import { FileError } from '../../src/core/io/file-error';

const tmp = mkdtempSync(join(tmpdir(), 'rl-cli-train-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const data = join(tmp, 'prefs.jsonl');
writeFileSync(data, '{"prompt":"a","chosen":"b","rejected":"c"}\n');
const labels = join(tmp, 'prefs.labels.jsonl');
writeFileSync(labels, '');
const baseDir = join(tmp, 'bert');
mkdirSync(baseDir);

/** The message of `argv`'s TrainUsageError (or FileError: a file named on it), failing when it parses. */
function usageError(argv: string[]): string {
  try {
    parseTrainArgs(argv);
  } catch (e) {
    assert.ok(e instanceof TrainUsageError || e instanceof FileError, `not a usage error: ${String(e)}`);
    assert.equal(e.message.split('\n').length, 1, 'errors are one line');
    return e.message;
  }
  return assert.fail(`parsed: ${argv.join(' ')}`);
}

function parsed(argv: string[]) {
  const r = parseTrainArgs(argv);
  assert.ok(!r.help);
  return r;
}

void describe('rewardlens train / eval flags', () => {
  void it('fills the defaults and leaves unset options out (run.json compares them on resume)', () => {
    const { options, json } = parsed([data, '--method', 'single', '--out', join(tmp, 'run')]);
    assert.deepEqual(options, { dataset: data, method: 'single', out: join(tmp, 'run'), preset: 'small', backend: 'auto', seed: 42 });
    assert.equal(json, false);
    assert.ok(!('labels' in options) && !('maxMinutes' in options) && !('overrides' in options));
  });

  void it('takes every flag', () => {
    const { options, json } = parsed([
      data,
      '--method',
      'dmoerm',
      '--out',
      'r',
      '--labels',
      labels,
      '--preset',
      'tiny',
      '--base',
      baseDir,
      '--backend',
      'wasm',
      '--max-minutes',
      '1.5',
      '--seed',
      '7',
      '--set',
      'learningRate=2e-5',
      '--set',
      'patience=3',
      '--set',
      'freeze=true',
      '--set',
      'sched=cosine',
      '--json',
      '--adapter',
      'hh-rlhf',
    ]);
    assert.deepEqual(options, {
      dataset: data,
      method: 'dmoerm',
      out: 'r',
      labels,
      preset: 'tiny',
      base: baseDir,
      backend: 'wasm',
      maxMinutes: 1.5,
      seed: 7,
      adapter: 'hh-rlhf',
      overrides: { learningRate: 2e-5, patience: 3, freeze: true, sched: 'cosine' },
    });
    assert.equal(json, true);
  });

  void it('says what is wrong with a flag, on one line', () => {
    const base = [data, '--out', 'r'];
    assert.match(usageError([data, '--out', 'r']), /train needs --method \(dmoerm, dmoerm-no-outer, single, mean, wco, uwo\)/);
    assert.match(usageError([...base, '--method', 'moe']), /--method must be one of dmoerm, dmoerm-no-outer, single, mean, wco, uwo, not "moe"/);
    assert.match(usageError([data, '--method', 'single']), /train needs --out RUN/);
    assert.match(usageError([...base, '--method', 'single', '--preset', 'huge']), /--preset must be one of tiny, small, not "huge"/);
    assert.match(
      usageError([...base, '--method', 'single', '--backend', 'cuda']),
      /--backend must be one of auto, wasm, cpu, tfjs-node, tfjs-node-gpu, torch, not "cuda"/,
    );
    assert.match(usageError([...base, '--method', 'single', '--max-minutes', '0']), /--max-minutes must be a positive number of minutes, not "0"/);
    assert.match(usageError([...base, '--method', 'single', '--max-minutes', 'ten']), /--max-minutes must be/);
    assert.match(usageError([...base, '--method', 'single', '--seed', '1.5']), /--seed must be a whole number/);
    assert.match(usageError([...base, '--method', 'single', '--set', 'lr']), /--set takes KEY=VALUE/);
    assert.match(usageError([...base, '--method', 'single', '--base', data]), /prefs\.jsonl: is a file, not a folder/);
    assert.match(usageError([...base, '--method', 'single', '--base', join(tmp, 'none')]), /none: no such file or folder/);
    assert.match(usageError([join(tmp, 'missing.jsonl'), '--method', 'single', '--out', 'r']), /missing\.jsonl: no such file/);
    assert.match(usageError(['--method', 'single', '--out', 'r']), /give one training dataset FILE/);
    assert.match(usageError([data, '--method', 'single', '--out', data]), /is a file, not a run folder/);
  });

  void it('dmoerm methods need --labels, pointing at the store beside the dataset when there is one', () => {
    for (const method of ['dmoerm', 'dmoerm-no-outer']) {
      assert.match(usageError([data, '--method', method, '--out', 'r']), new RegExp(`--method ${method} needs --labels STORE.*rewardlens label`));
    }
    const store = storeFileFor(data);
    mkdirSync(join(store, '..'), { recursive: true });
    writeFileSync(store, '');
    assert.match(usageError([data, '--method', 'dmoerm', '--out', 'r']), /the store beside the dataset is .*\.rewardlens\/prefs\.jsonl\.labels\.jsonl\)$/);
    assert.match(usageError([data, '--method', 'dmoerm', '--out', 'r', '--labels', join(tmp, 'nope.jsonl')]), /nope\.jsonl: no such file/);
    assert.equal(parsed([data, '--method', 'mean', '--out', 'r']).options.labels, undefined, 'baselines need no labels');
  });

  void it('rejects unknown flags through parseArgs (exit 2 in main)', () => {
    assert.throws(() => parseTrainArgs([data, '--method', 'single', '--out', 'r', '--epochs', '3']), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' });
  });

  void it('--set values: numbers, booleans, text', () => {
    assert.deepEqual(parseOverrides(['a=1', 'b=-2.5e-3', 'c=false', 'd=x=y', 'e=']), { a: 1, b: -2.5e-3, c: false, d: 'x=y', e: '' });
    assert.throws(() => parseOverrides(['=3']), TrainUsageError);
  });

  void it('eval takes RUN and TESTFILE, both existing', () => {
    const run = join(tmp, 'run-a');
    mkdirSync(run);
    assert.throws(() => parseEvalArgs([run, data]), /run-a: is not a RewardLens run folder \(it has no run\.json\)/);
    writeFileSync(join(run, 'run.json'), '{}');
    assert.deepEqual(parseEvalArgs([run, data, '--json']), { help: false, run, testFile: data, schemaFile: undefined, adapter: undefined, json: true });
    assert.throws(() => parseEvalArgs([run]), /usage: rewardlens eval RUN TESTFILE/);
    assert.throws(() => parseEvalArgs([join(tmp, 'no-run'), data]), /no-run: no such file or folder/);
    assert.throws(() => parseEvalArgs([run, run]), /run-a: is a folder, not a file/);
    writeFileSync(join(run, 'test-evals.json'), '[]');
    assert.throws(() => parseEvalArgs([run, join(run, 'test-evals.json')]), /test-evals\.json: is also an input/);
  });

  void it('progress lines show phase, expert, step/total, loss and accuracies', () => {
    assert.equal(
      formatTrainEvent({ type: 'progress', phase: 'phase2', expert: 'role<play>', step: 40, totalSteps: 200, loss: 0.69314, trainAcc: 0.6, valAcc: 0.625 }),
      'phase2 [role<play>] step 40/200 loss 0.6931, train acc 60.0%, val acc 62.5%',
    );
    assert.equal(formatTrainEvent({ type: 'progress', phase: 'base', step: 1, totalSteps: 9, loss: 1 }), 'base step 1/9 loss 1.0000');
    assert.equal(formatTrainEvent({ type: 'phase', phase: 'router', message: 'training the outer router' }), 'router: training the outer router');
    assert.equal(formatTrainEvent({ type: 'log', level: 'warn', message: 'slow' }), 'warning: slow');
    assert.equal(formatTrainEvent({ type: 'checkpoint', phase: 'base', step: 3, path: 'x' }), undefined);
  });

  void it('eval prints a small table: overall first, then categories by name', () => {
    const table = formatEvalResult({
      method: 'dmoerm',
      overall: 0.7123,
      pairs: 120,
      byCategory: { roleplay: { accuracy: 0.75, pairs: 40 }, chitchat: { accuracy: null, pairs: 0 } },
    });
    assert.deepEqual(table.split('\n'), [
      'method: dmoerm',
      'category  accuracy    pairs',
      'overall      71.2%      120',
      'chitchat         –        0',
      'roleplay     75.0%       40',
    ]);
  });

  void it('the help text lists both commands and every flag (main.ts prints it with the others)', () => {
    assert.match(TRAIN_USAGE, /rewardlens train FILE --method M --out RUN/);
    assert.match(TRAIN_USAGE, /rewardlens eval RUN TESTFILE/);
    for (const flag of ['--method', '--out', '--labels', '--preset', '--base', '--backend', '--max-minutes', '--seed', '--set', '--json'])
      assert.ok(TRAIN_USAGE.includes(flag), flag);
  });
});
