import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { EditApplier, parseRanking } from '../../../src/core/curation/apply';
import { exportDataset } from '../../../src/core/curation/export-dataset';
import { appendToJournal, contentHash, countByKind, journalFileFor, readJournal } from '../../../src/core/curation/journal';
import type { NewRecordEdit } from '../../../src/core/curation/journal';
import { Dataset } from '../../../src/core/dataset/dataset';
import type { PreferenceRecord } from '../../../src/core/dataset/record';
import { LockedError } from '../../../src/core/lock';
import { TextTokenizer } from '../../../src/core/model/tokenizer';
import { loadPreferenceData } from '../../../src/core/training/data';
import { parseTrainArgs } from '../../../src/cli/train';

const tmp = mkdtempSync(join(tmpdir(), 'rl-curation-'));
const cli = resolve(__dirname, '..', '..', '..', 'cli.js');

const records = [
  { src: ['What is 2+2?'], tgt: [], response: ['4', '5'], rank: [1, 2], label: 'math' },
  { src: ['Say hi'], tgt: [], response: ['hi', 'go away', 'hello'], rank: [2, 3, 1], label: 'chat' },
  { src: ['Name a colour'], tgt: [], response: ['blue', 'seven'], rank: [1, 2], label: 'chat' },
];

function datasetFile(name: string, rows: unknown[] = records): string {
  const file = join(tmp, name);
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

async function editOf(file: string, index: number, edit: Omit<NewRecordEdit, 'record' | 'hash' | 'line'>): Promise<NewRecordEdit> {
  const d = await Dataset.open(file);
  try {
    const v = d.read(index);
    return { ...edit, record: v.record!.id, hash: contentHash(d.raw(index)), line: v.line };
  } finally {
    d.close();
  }
}

async function curated(file: string): Promise<{ rows: (PreferenceRecord | undefined)[]; applier: EditApplier }> {
  const d = await Dataset.open(file);
  const applier = EditApplier.forDataset(file);
  try {
    const rows: (PreferenceRecord | undefined)[] = [];
    for (let i = 0; i < d.size; i++) rows.push(applier.apply(d.read(i).record!, d.raw(i)).record);
    applier.finish();
    return { rows, applier };
  } finally {
    d.close();
  }
}

void describe('edits journal', () => {
  void it('flip, tie, rerank, drop, tag and note apply to the records they were made on', async () => {
    const file = datasetFile('kinds.jsonl');
    const journal = journalFileFor(file);
    assert.equal(journal, join(tmp, '.rewardlens', 'kinds.jsonl.edits.jsonl'));
    appendToJournal(journal, [
      await editOf(file, 0, { kind: 'flip' }),
      await editOf(file, 1, { kind: 'rerank', ranking: [1, 2, 3] }),
      await editOf(file, 1, { kind: 'tag', tag: 'label-noise' }),
      await editOf(file, 1, { kind: 'note', note: 'ranks were reversed' }),
      await editOf(file, 2, { kind: 'drop' }),
    ]);
    const { rows, applier } = await curated(file);
    assert.deepEqual(rows[0]!.preference!.ranking, [2, 1]);
    assert.deepEqual(rows[1]!.preference!.ranking, [1, 2, 3]);
    assert.deepEqual(rows[1]!.metadata!.rewardlens, { tags: ['label-noise'], notes: ['ranks were reversed'], edits: ['rerank', 'tag', 'note'] });
    assert.equal(rows[2], undefined);
    assert.equal(applier.applied, 5);
    assert.equal(applier.dropped, 1);
    assert.deepEqual(applier.stale, []);
    assert.deepEqual(countByKind(readJournal(journal)), { flip: 1, tie: 0, rerank: 1, drop: 1, tag: 1, note: 1 });

    appendToJournal(journal, [await editOf(file, 0, { kind: 'tie' })]);
    const tied = await curated(file);
    assert.deepEqual(tied.rows[0]!.preference!.ranking, [1, 1]);
  });

  void it('re-rank reads a ranking as the editor asks for it, and refuses one that does not fit the record', async () => {
    assert.deepEqual(parseRanking('2, 1, 3', 3), [2, 1, 3]);
    assert.deepEqual(parseRanking(' 1 1  2 ', 3), [1, 1, 2], 'equal ranks are a tie');
    for (const bad of ['1, 2', '1, 2, 3, 4', '0, 1, 2', '1.5, 1, 2', 'a, b, c', ''])
      assert.match(String(parseRanking(bad, 3)), /one rank \(1 best\) for each of the 3 responses/, bad);
    const file = datasetFile('rerank.jsonl');
    const journal = journalFileFor(file);
    appendToJournal(journal, [await editOf(file, 0, { kind: 'rerank', ranking: [1, 2, 3] }), await editOf(file, 1, { kind: 'rerank', ranking: [3, 1, 2] })]);
    const { rows, applier } = await curated(file);
    assert.deepEqual(rows[1]!.preference, { ranking: [3, 1, 2] });
    // Record 1 has two responses: a ranking of three does not apply, and says why.
    assert.equal(applier.stale.length, 1);
    assert.match(applier.stale[0].reason, /for each of the 2 responses/);
  });

  void it('undo and redo are journal lines, so they survive a restart; a new edit ends the redo history', async () => {
    const file = datasetFile('undo.jsonl');
    const journal = journalFileFor(file);
    const flip = await editOf(file, 0, { kind: 'flip' });
    const drop = await editOf(file, 1, { kind: 'drop' });
    appendToJournal(journal, [flip, drop]);
    const undone = appendToJournal(journal, [{ kind: 'undo' }]);
    assert.equal(undone.length, 1);
    // A fresh read (a restarted editor) sees the drop undone and the flip still in effect.
    let c = readJournal(journal);
    assert.deepEqual(
      c.active.map((e) => e.kind),
      ['flip'],
    );
    assert.deepEqual(
      c.redoStack.map((e) => e.kind),
      ['drop'],
    );
    appendToJournal(journal, [{ kind: 'redo' }]);
    c = readJournal(journal);
    assert.deepEqual(
      c.active.map((e) => e.kind),
      ['flip', 'drop'],
    );
    appendToJournal(journal, [{ kind: 'undo' }, { kind: 'undo' }, { kind: 'undo' }]);
    c = readJournal(journal);
    assert.deepEqual(c.active, []);
    assert.equal(c.lines.length, 6, 'an undo with nothing left to undo writes nothing');
    appendToJournal(journal, [await editOf(file, 2, { kind: 'tag', tag: 'leak' })]);
    c = readJournal(journal);
    assert.deepEqual(c.redoStack, []);
    assert.deepEqual(appendToJournal(journal, [{ kind: 'redo' }]), []);
  });

  void it('a torn last line is ignored and ended before the next line', async () => {
    const file = datasetFile('torn.jsonl');
    const journal = journalFileFor(file);
    appendToJournal(journal, [await editOf(file, 0, { kind: 'flip' })]);
    appendFileSync(journal, '{"kind":"drop","seq":2,"rec');
    let c = readJournal(journal);
    assert.equal(c.ignoredLines, 1);
    assert.equal(c.active.length, 1);
    appendToJournal(journal, [await editOf(file, 1, { kind: 'drop' })]);
    c = readJournal(journal);
    assert.equal(c.ignoredLines, 1);
    assert.deepEqual(
      c.active.map((e) => [e.kind, e.seq]),
      [
        ['flip', 1],
        ['drop', 2],
      ],
    );
    assert.ok(readFileSync(journal, 'utf8').endsWith('\n'));
  });

  void it('refuses to append while another live process holds the lock', async () => {
    const file = datasetFile('locked.jsonl');
    const journal = journalFileFor(file);
    appendToJournal(journal, [await editOf(file, 0, { kind: 'flip' })]);
    // pid 1 is alive on every Linux machine and is not us.
    writeFileSync(`${journal}.lock`, `1@${hostname()}`);
    await assert.rejects(async () => appendToJournal(journal, [await editOf(file, 1, { kind: 'drop' })]), LockedError);
    assert.equal(readJournal(journal).lines.length, 1);
  });

  void it('an edit of a record that has changed since, or is gone, is reported as stale and not applied', async () => {
    const file = datasetFile('stale.jsonl');
    const journal = journalFileFor(file);
    appendToJournal(journal, [await editOf(file, 0, { kind: 'flip' }), await editOf(file, 1, { kind: 'drop' }), await editOf(file, 2, { kind: 'drop' })]);
    // Record 1 gets a new ranking (same id: same texts; other raw text), record 3 is removed.
    datasetFile('stale.jsonl', [records[0], { ...records[1], rank: [1, 2, 3] }]);
    const { rows, applier } = await curated(file);
    assert.deepEqual(rows[0]!.preference!.ranking, [2, 1]);
    assert.ok(rows[1], 'the stale drop is not applied');
    assert.equal(applier.stale.length, 2);
    assert.match(applier.stale[0].reason, /has changed since the edit/);
    assert.match(applier.stale[1].reason, /no longer in the file/);
  });
});

void describe('export-dataset', () => {
  void it('writes canonical, trl and dmoerm with the edits applied, and "same" round-trips a dmoerm file', async () => {
    const file = datasetFile('export.jsonl');
    appendToJournal(journalFileFor(file), [await editOf(file, 0, { kind: 'flip' }), await editOf(file, 2, { kind: 'drop' })]);
    const d = await Dataset.open(file);
    try {
      const out = join(tmp, 'export.trl.jsonl');
      const r = exportDataset(d, out, { format: 'trl' });
      assert.equal(r.records, 2);
      assert.equal(r.dropped, 1);
      const lines = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { chosen: { content: string }[]; rejected: { content: string }[] });
      assert.equal(lines.length, 1 + 3);
      assert.equal(lines[0].chosen[0].content, '5', 'the flipped preference');
      assert.equal(lines[0].rejected[0].content, '4');

      const same = join(tmp, 'export.same.jsonl');
      exportDataset(d, same, { format: 'same', edits: false });
      assert.equal(readFileSync(same, 'utf8'), readFileSync(file, 'utf8'));
      const curatedSame = join(tmp, 'export.same-curated.jsonl');
      exportDataset(d, curatedSame, { format: 'same' });
      assert.deepEqual(
        readFileSync(curatedSame, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as unknown),
        [{ ...records[0], rank: [2, 1] }, records[1]],
      );

      assert.throws(() => exportDataset(d, file, { format: 'canonical' }), /input/);
    } finally {
      d.close();
    }
    const pairs = datasetFile('pairs.jsonl', [{ prompt: 'hi', chosen: 'hello', rejected: 'go away' }]);
    const p = await Dataset.open(pairs);
    try {
      assert.throws(() => exportDataset(p, join(tmp, 'pairs.out.jsonl'), { format: 'same' }), /chosen-rejected.*--format canonical/);
      const r = exportDataset(p, join(tmp, 'pairs.canonical.jsonl'), { format: 'canonical' });
      assert.equal(r.written, 1);
    } finally {
      p.close();
    }
  });

  void it('the CLI exits 0 on success, 2 on bad flags and on writing over its input', () => {
    const file = datasetFile('cli.jsonl');
    const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'export-dataset', ...args], { encoding: 'utf8' });
    const ok = run(file, '--out', join(tmp, 'cli.out.jsonl'), '--format', 'trl', '--json');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { written: number }).written, 1 + 3 + 1);
    const badFormat = run(file, '--out', join(tmp, 'x.jsonl'), '--format', 'parquet');
    assert.equal(badFormat.status, 2);
    assert.match(badFormat.stderr, /--format must be one of same, canonical, trl, dmoerm/);
    const over = run(file, '--out', file);
    assert.equal(over.status, 2);
    assert.match(over.stderr, /^rewardlens: .*cli\.jsonl: /);
    assert.equal(readFileSync(file, 'utf8'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const noOut = run(file);
    assert.equal(noOut.status, 2);
    assert.ok(!existsSync(join(tmp, 'x.jsonl')));
  });
});

void describe('training reads the dataset with its edits', () => {
  void it('applies flips and drops by default, reports stale edits, and ignores the journal with edits: false / --no-edits', async () => {
    const file = datasetFile('train.jsonl');
    appendToJournal(journalFileFor(file), [await editOf(file, 0, { kind: 'flip' }), await editOf(file, 2, { kind: 'drop' })]);
    const tokenizer = TextTokenizer.default();
    const limits = { maxLen: 64, routerMaxLen: 64 };
    const curated = await loadPreferenceData(file, tokenizer, limits);
    assert.equal(curated.records.length, 2);
    assert.deepEqual(
      curated.pairs[0].map((p) => [p.winner, p.loser]),
      [[1, 0]],
      'record 1 flipped',
    );
    assert.equal(curated.edits?.applied, 2);
    assert.equal(curated.edits?.dropped, 1);
    const plain = await loadPreferenceData(file, tokenizer, limits, { edits: false });
    assert.equal(plain.records.length, 3);
    assert.deepEqual(
      plain.pairs[0].map((p) => [p.winner, p.loser]),
      [[0, 1]],
    );
    assert.equal(plain.edits, undefined);

    const parsed = parseTrainArgs([file, '--method', 'single', '--out', join(tmp, 'run-x'), '--no-edits']);
    assert.ok(!parsed.help && parsed.options.noEdits === true);
    const dflt = parseTrainArgs([file, '--method', 'single', '--out', join(tmp, 'run-y')]);
    assert.ok(!dflt.help && !('noEdits' in dflt.options), 'absent, so runs without the flag resume as before');
  });
});
