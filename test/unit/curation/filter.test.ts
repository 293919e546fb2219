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
    for (const [q, re] of cases) assert.throws(() => parseFilter(q), (e: unknown) => e instanceof FilterError && re.test(e.message), q);
    assert.equal(formatFilter(parseFilter(' category=roleplay,chat & len.chosen>=500 & tag=label%20noise ')), 'category=roleplay,chat&len.chosen>=500&tag=label%20noise');
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
    const ok = spawnSync(process.execPath, [cli, 'export-dataset', file, '--out', out, '--format', 'same', '--filter', 'category=roleplay&dup-prompt=1'], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /2 left out by the filter/);
    assert.equal(readFileSync(out, 'utf8'), readFileSync(file, 'utf8').split('\n').slice(0, 2).join('\n') + '\n');
    const bad = spawnSync(process.execPath, [cli, 'export-dataset', file, '--out', out, '--filter', 'len.chosen>lots'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^rewardlens: filter: len.chosen needs a number/);
    const missing = spawnSync(process.execPath, [cli, 'export-dataset', file, '--out', out, '--filter', `leak=${join(tmp, 'nope.jsonl')}`], { encoding: 'utf8' });
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /nope\.jsonl/);
  });
});
