import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { EditApplier } from '../../../src/core/curation/apply';
import { FilterError, formatFilter, parseFilter, predicateOf, prepareFilter } from '../../../src/core/curation/filter';
import { appendToJournal, contentHash, journalFileFor } from '../../../src/core/curation/journal';
import { Dataset } from '../../../src/core/dataset/dataset';
import { LabelStore, storeFileFor } from '../../../src/core/labelling/store';
import type { PreferenceRecord } from '../../../src/core/dataset/record';

const tmp = mkdtempSync(join(tmpdir(), 'rl-filter-'));
const cli = resolve(__dirname, '..', '..', '..', 'cli.js');

const rows = [
  { src: ['Play a pirate'], tgt: [], response: ['Arr, matey! '.repeat(50), 'no'], rank: [1, 2], label: 'roleplay' },
  { src: ['Play a pirate'], tgt: [], response: ['Ahoy', 'Yo ho'], rank: [2, 1], label: 'roleplay' },
  { src: ['What is 2+2?'], tgt: [], response: ['4', '5, write to me at a@b.example.com'], rank: [1, 2], label: 'math' },
  { src: ['Name a colour'], tgt: [], response: ['blue', 'seven', 'red'], rank: [1, 3, 2], label: 'chat' },
];

function write(name: string, lines: unknown[]): string {
  const file = join(tmp, name);
  writeFileSync(file, lines.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

async function matching(file: string, query: string): Promise<number[]> {
  const d = await Dataset.open(file);
  try {
    const clauses = parseFilter(query);
    const keep = predicateOf(clauses, await prepareFilter(clauses, d));
    const applier = EditApplier.forDataset(file);
    const out: number[] = [];
    for (let i = 0; i < d.size; i++) {
      const r = applier.apply(d.read(i).record!, d.raw(i)).record as PreferenceRecord;
      if (keep(r)) out.push(i + 1);
    }
    return out;
  } finally {
    d.close();
  }
}

void describe('record filters', () => {
  void it('parse errors name the clause and what is wrong', () => {
    const cases: [string, RegExp][] = [
      ['category', /"category" \(at 1\) is not KEY=VALUE/],
      ['colour=red', /unknown key "colour" \(at 1\); keys: category/],
      ['category=a&len.chosen>many', /len.chosen needs a number, not "many" \(at 12\)/],
      ['edited=yes', /edited is 0 or 1, not "yes"/],
      ['tag>2', /tag takes = or !=, not >/],
      ['pii=ssn', /pii is 1, 0, email, phone or idCard/],
      ['category=%E0%A4%A', /malformed %-escape/],
    ];
    for (const [q, re] of cases)
      assert.throws(
        () => parseFilter(q),
        (e: unknown) => e instanceof FilterError && re.test(e.message),
        q,
      );
    assert.equal(
      formatFilter(parseFilter(' category=roleplay,chat & len.chosen>=500 & tag=label%20noise ')),
      'category=roleplay,chat&len.chosen>=500&tag=label%20noise',
    );
  });

  void it('each key selects the records it says', async () => {
    const file = write('f.jsonl', rows);
    const test = write('test.jsonl', [rows[3]]);
    const d = await Dataset.open(file);
    const r3 = d.read(2);
    appendToJournal(journalFileFor(file), [{ kind: 'tag', tag: 'label-noise', record: r3.record!.id, hash: contentHash(d.raw(2)), line: 3 }]);
    d.close();
    assert.deepEqual(await matching(file, 'category=roleplay'), [1, 2]);
    assert.deepEqual(await matching(file, 'category!=roleplay'), [3, 4]);
    assert.deepEqual(await matching(file, 'category=math,chat'), [3, 4]);
    assert.deepEqual(await matching(file, 'len.chosen>500'), [1]);
    assert.deepEqual(await matching(file, 'len.rejected<=2'), [1]);
    assert.deepEqual(await matching(file, 'len.prompt<13'), [3]);
    assert.deepEqual(await matching(file, 'responses=3'), [4]);
    assert.deepEqual(await matching(file, 'dup-prompt=1'), [1, 2]);
    assert.deepEqual(await matching(file, 'dup-prompt=0'), [3, 4]);
    assert.deepEqual(await matching(file, `leak=${test}`), [4]);
    assert.deepEqual(await matching(file, 'pii=email'), [3]);
    assert.deepEqual(await matching(file, 'pii=0'), [1, 2, 4]);
    assert.deepEqual(await matching(file, 'tag=label-noise'), [3]);
    assert.deepEqual(await matching(file, 'edited=1'), [3]);
    assert.deepEqual(await matching(file, 'edited=0&category=roleplay&len.chosen<100'), [2]);
  });

  void it('export-dataset --filter keeps the matching records; a bad query or a missing leak file exits 2', () => {
    const file = write('cli.jsonl', rows);
    const out = join(tmp, 'cli.out.jsonl');
    const ok = spawnSync(process.execPath, [cli, 'export-dataset', file, '--out', out, '--format', 'same', '--filter', 'category=roleplay&dup-prompt=1'], {
      encoding: 'utf8',
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /2 left out by the filter/);
    assert.equal(readFileSync(out, 'utf8'), readFileSync(file, 'utf8').split('\n').slice(0, 2).join('\n') + '\n');
    const bad = spawnSync(process.execPath, [cli, 'export-dataset', file, '--out', out, '--filter', 'len.chosen>lots'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^rewardlens: filter: len.chosen needs a number/);
    const missing = spawnSync(process.execPath, [cli, 'export-dataset', file, '--out', out, '--filter', `leak=${join(tmp, 'nope.jsonl')}`], {
      encoding: 'utf8',
    });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.jsonl/);
  });
});

void describe('disagreement filters', () => {
  const ids = async (file: string): Promise<string[]> => {
    const d = await Dataset.open(file);
    try {
      return Array.from({ length: d.size }, (_, i) => d.read(i).record!.id);
    } finally {
      d.close();
    }
  };
  /** Consistent labels (from ratings, as labels-from-ratings writes them) naming `winner` in the pair a, b of record `index`. */
  const label = (id: string, index: number, a: number, b: number, winner: number, point: string) => ({
    type: 'label' as const,
    key: `ratings|${id}|${a}|${b}|${point}`,
    setup: 'ratings',
    record: id,
    index,
    category: 'x',
    a,
    b,
    point,
    winner,
    source: 'ratings:test',
    result: 'consistent' as const,
    ts: '2026-01-01T00:00:00Z',
  });

  void it('label-vs-human: records whose capability labels mostly side with the human loser of a pair, on the curated preference', async () => {
    const file = write('labels.jsonl', rows);
    const [r1, r2, , r4] = await ids(file);
    const store = LabelStore.open(storeFileFor(file));
    // Record 1 (human: response 1 over 2): two of three points prefer response 2. Record 2 (human: 2 over 1): its label agrees.
    // Record 4 (1 > 3 > 2): response 3 beats response 1 on the one point asked. Record 3 has no labels.
    for (const l of [
      label(r1, 0, 0, 1, 1, 'p1'),
      label(r1, 0, 0, 1, 1, 'p2'),
      label(r1, 0, 0, 1, 0, 'p3'),
      label(r2, 1, 0, 1, 1, 'p1'),
      label(r4, 3, 0, 2, 2, 'p1'),
    ])
      store.append(l);
    store.close();
    assert.deepEqual(await matching(file, 'label-vs-human=1'), [1, 4]);
    assert.deepEqual(await matching(file, 'label-vs-human=0'), [2, 3]);
    // Flipped, record 1's human preference is what its labels say: it no longer disagrees.
    const d = await Dataset.open(file);
    appendToJournal(journalFileFor(file), [{ kind: 'flip', record: r1, hash: contentHash(d.raw(0)), line: 1 }]);
    d.close();
    assert.deepEqual(await matching(file, 'label-vs-human=1'), [4]);
    // No labels at all: an error that says where they were looked for, not an empty list.
    const bare = write('bare.jsonl', rows);
    await assert.rejects(
      matching(bare, 'label-vs-human=1'),
      (e: unknown) => e instanceof FilterError && /needs capability labels, and .*bare\.jsonl\.labels\.jsonl has none/.test(e.message),
    );
  });

  void it("label-noise=SCORES: the disagreement explorer's candidates, where the model disagrees and the labels side with the loser on the same pair", async () => {
    const file = write('noise.jsonl', rows);
    const [r1, r2, r3, r4] = await ids(file);
    const store = LabelStore.open(storeFileFor(file));
    // As in label-vs-human: record 1's labels side with its loser (response 2), record 2's agree, record 4's side with
    // response 3 against response 1 (a pair its model orders as the human does).
    for (const l of [label(r1, 0, 0, 1, 1, 'p1'), label(r1, 0, 0, 1, 1, 'p2'), label(r2, 1, 0, 1, 1, 'p1'), label(r4, 3, 0, 2, 2, 'p1')]) store.append(l);
    store.close();
    const scores = join(tmp, 'noise-scores.json');
    const records = [
      { id: r1, logits: [0.1, 2] },
      { id: r2, logits: [3, 1] },
      { id: r3, logits: [1, 0] },
      { id: r4, logits: [1, null, 0.5] },
    ];
    writeFileSync(scores, JSON.stringify({ records }));
    // Record 2: the model disagrees but its labels agree with the human; record 4: the model disagrees on pairs with
    // response 2 (NaN), its labels on the pair 1-3, which the model orders as the human does.
    assert.deepEqual(await matching(file, `label-noise=${scores}`), [1]);
    assert.deepEqual(await matching(file, `label-noise!=${scores}`), [2, 3, 4]);
    const bare = write('noise-bare.jsonl', rows);
    const bareIds = await ids(bare);
    writeFileSync(scores, JSON.stringify({ records: records.map((r, i) => ({ ...r, id: bareIds[i] })) }));
    await assert.rejects(
      matching(bare, `label-noise=${scores}`),
      (e: unknown) => e instanceof FilterError && /label-noise needs capability labels/.test(e.message),
    );
  });

  void it('model-vs-human=SCORES: records where the scored model does not reward a human winner strictly higher (NaN counts as disagreeing)', async () => {
    const file = write('scored.jsonl', rows);
    const [r1, r2, r3, r4] = await ids(file);
    const scores = join(tmp, 'scores.json');
    // As `rewardlens score --json` writes it (a NaN logit is null in JSON).
    writeFileSync(
      scores,
      JSON.stringify({
        model: 'm.onnx',
        file,
        method: 'dmoerm',
        records: [
          { index: 0, id: r1, logits: [0.1, 2] },
          { index: 1, id: r2, logits: [3, 1] },
          { index: 2, id: r3, logits: [1, 0] },
          { index: 3, id: r4, logits: [1, null, 0.5] },
        ],
      }),
    );
    assert.deepEqual(await matching(file, `model-vs-human=${scores}`), [1, 2, 4]);
    assert.deepEqual(await matching(file, `model-vs-human!=${scores}`), [3]);
    assert.deepEqual(await matching(file, `model-vs-human=${scores}&category=roleplay`), [1, 2]);
    // model-vs-human=model: the editor's reward model, through the hook it passes; without one (the CLI), an error.
    const d = await Dataset.open(file);
    try {
      const clauses = parseFilter('model-vs-human=model');
      await assert.rejects(prepareFilter(clauses, d), (e: unknown) => e instanceof FilterError && /give a scores file/.test(e.message));
      const keep = predicateOf(clauses, await prepareFilter(clauses, d, { modelScores: () => Promise.resolve(new Map([[r3, [0, 1]]])) }));
      assert.deepEqual(
        [0, 1, 2, 3].filter((i) => keep(d.read(i).record!)),
        [2],
      );
    } finally {
      d.close();
    }
    // The CLI: the same records, and a file that is not a scores file exits 2.
    const out = join(tmp, 'scored.out.jsonl');
    const ok = spawnSync(process.execPath, [cli, 'export-dataset', file, '--out', out, '--format', 'same', '--filter', `model-vs-human=${scores}`], {
      encoding: 'utf8',
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /1 left out by the filter/);
    const notScores = spawnSync(process.execPath, [cli, 'export-dataset', file, '--out', out, '--filter', `model-vs-human=${file}`], { encoding: 'utf8' });
    assert.equal(notScores.status, 2, notScores.stderr);
    assert.match(notScores.stderr, /not the output of rewardlens score --json/);
    // Scores of another file (or of an older version of this one) are refused, naming the first record they miss.
    const partial = join(tmp, 'partial.json');
    // r1 and r2 as scored; r3 as given; r4 never.
    const writePartial = (r3Logits: number[]): void =>
      writeFileSync(
        partial,
        JSON.stringify({
          records: [
            { id: r1, logits: [0.1, 2] },
            { id: r2, logits: [3, 1] },
            { id: r3, logits: r3Logits },
          ],
        }),
      );
    writePartial([1, 0, 2]);
    await assert.rejects(
      matching(file, `model-vs-human=${partial}`),
      (e: unknown) => e instanceof FilterError && /scores 3 responses of it, the file has 2 \(.*scored\.jsonl line 3, record /.test(e.message),
    );
    writePartial([1, 0]);
    await assert.rejects(
      matching(file, `model-vs-human=${partial}`),
      (e: unknown) => e instanceof FilterError && new RegExp(`has no scores for it .*record ${r4}`).test(e.message),
    );
  });
});
