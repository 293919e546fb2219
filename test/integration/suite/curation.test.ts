// In-host tests of curation: edit commands through executeCommand, the edit CodeLens and decorations,
// undo across a re-read of the journal, and "Filter Records…" with a bulk tag and drop.
import * as assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { FilterResult } from '../../../src/extension/curation/filter-command';
import { appendToJournal, readJournal, journalFileFor, countByKind } from '../../../src/core/curation/journal';
import { Dataset } from '../../../src/core/dataset/dataset';
import { LabelStore, storeFileFor } from '../../../src/core/labelling/store';
import { openEditor, testingApi, waitFor, workspaceFolder } from './helpers';

const rows = [
  { src: ['Play a pirate'], tgt: [], response: ['Arr', 'no'], rank: [1, 2], label: 'roleplay' },
  { src: ['Play a pirate'], tgt: [], response: ['Ahoy', 'Yo ho'], rank: [2, 1], label: 'roleplay' },
  { src: ['What is 2+2?'], tgt: [], response: ['4', '5'], rank: [1, 2], label: 'math' },
];

async function lensTitles(uri: vscode.Uri): Promise<string[]> {
  const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100);
  return lenses.map((l) => l.command?.title ?? '');
}

suite('RewardLens curation', () => {
  const file = join(workspaceFolder().fsPath, 'curation-host.jsonl');
  const journal = journalFileFor(file);

  suiteSetup(() => writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  suiteTeardown(() => {
    rmSync(file, { force: true });
    rmSync(journal, { force: true });
  });
  teardown(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  test('flip, tag and undo from commands; the edit lens follows; the file is never written', async () => {
    const editor = await openEditor('curation-host.jsonl');
    const uri = editor.document.uri;
    await waitFor(async () => ((await lensTitles(uri)).length > 0 ? true : undefined), 'the record lenses');
    assert.ok(!(await lensTitles(uri)).some((t) => t.startsWith('✎')), 'no edit lens before an edit');
    await vscode.commands.executeCommand('rewardlens.flipPreference', uri.toString(), 2);
    await vscode.commands.executeCommand('rewardlens.tagRecord', uri.toString(), 2, 'harmful');
    const titles = await waitFor(async () => {
      const t = await lensTitles(uri);
      return t.some((x) => x.includes('✎ flipped · #harmful')) ? t : undefined;
    }, 'the edit lens of record 3');
    assert.ok(titles.some((x) => x.startsWith('✎')));
    await vscode.commands.executeCommand('rewardlens.undoEdit', uri.toString());
    await waitFor(async () => ((await lensTitles(uri)).some((x) => x === '✎ flipped') ? true : undefined), 'the tag undone');
    assert.deepEqual(countByKind(readJournal(journal)), { flip: 1, tie: 0, rerank: 0, drop: 0, tag: 0, note: 0 });
    assert.equal(readFileSync(file, 'utf8'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');

    // The decorations mark record 3's line; an edit made on other text (here: the CLI's, seen through the
    // journal watcher) turns it to the stale mark.
    const testing = await testingApi();
    await waitFor(() => (testing.editDecorations(uri)?.edited.includes(2) ? true : undefined), 'the edit decoration of record 3');
    assert.deepEqual(testing.editDecorations(uri), { edited: [2], stale: [] });
    const [flip] = readJournal(journal).active;
    appendToJournal(journal, [{ kind: 'note', record: flip.record, hash: '0000000000000000', line: flip.line, note: 'made on another version' }]);
    await waitFor(() => (testing.editDecorations(uri)?.stale.includes(2) ? true : undefined), 'the stale decoration of record 3');
    assert.deepEqual(testing.editDecorations(uri), { edited: [], stale: [2] });
  });

  test('a record the file repeats is marked on every copy; rewardlens.curation.decorations turns the marks off', async () => {
    const copies = join(workspaceFolder().fsPath, 'curation-copies.jsonl');
    writeFileSync(copies, [rows[2], rows[0], rows[2]].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const config = vscode.workspace.getConfiguration('rewardlens');
    try {
      const uri = (await openEditor('curation-copies.jsonl')).document.uri;
      await waitFor(async () => ((await lensTitles(uri)).length > 0 ? true : undefined), 'the record lenses');
      await vscode.commands.executeCommand('rewardlens.flipPreference', uri.toString(), 2);
      const testing = await testingApi();
      await waitFor(() => (testing.editDecorations(uri)?.edited.length === 2 ? true : undefined), 'both copies marked');
      assert.deepEqual(testing.editDecorations(uri), { edited: [0, 2], stale: [] });
      await config.update('curation.decorations', false, vscode.ConfigurationTarget.Global);
      await waitFor(() => (testing.editDecorations(uri)?.edited.length === 0 ? true : undefined), 'the marks gone');
      await config.update('curation.decorations', undefined, vscode.ConfigurationTarget.Global);
      await waitFor(() => (testing.editDecorations(uri)?.edited.length === 2 ? true : undefined), 'the marks back');
    } finally {
      await config.update('curation.decorations', undefined, vscode.ConfigurationTarget.Global);
      for (const f of [copies, journalFileFor(copies)]) rmSync(f, { force: true });
    }
  });

  test('Filter Records… finds the records of a query and tags or drops them in bulk', async () => {
    const editor = await openEditor('curation-host.jsonl');
    const uri = editor.document.uri.toString();
    const found = await vscode.commands.executeCommand<FilterResult>('rewardlens.filterRecords', uri, 'category=roleplay&dup-prompt=1');
    assert.deepEqual(found.matches, [0, 1]);
    const tagged = await vscode.commands.executeCommand<FilterResult>('rewardlens.filterRecords', uri, 'category=roleplay', {
      action: 'tag',
      tag: 'label-noise',
    });
    assert.equal(tagged.edited, 2);
    const byTag = await vscode.commands.executeCommand<FilterResult>('rewardlens.filterRecords', uri, 'tag=label-noise&edited=1');
    assert.deepEqual(byTag.matches, [0, 1]);
    const dropped = await vscode.commands.executeCommand<FilterResult>('rewardlens.filterRecords', uri, 'category=math', { action: 'drop' });
    assert.equal(dropped.edited, 1);
    // A dropped record no longer matches anything: filters read the curated dataset.
    const after = await vscode.commands.executeCommand<FilterResult>('rewardlens.filterRecords', uri, 'category=math');
    assert.deepEqual(after.matches, []);
  });
  test('Re-rank Responses… writes the new ranking; filters read it; a ranking that does not fit writes nothing', async () => {
    const editor = await openEditor('curation-host.jsonl');
    const uri = editor.document.uri;
    const before = readJournal(journal).lines.length;
    assert.equal(await vscode.commands.executeCommand('rewardlens.rerankResponses', uri.toString(), 0, [1, 2, 3]), undefined);
    assert.equal(readJournal(journal).lines.length, before);
    const seq = await vscode.commands.executeCommand<number>('rewardlens.rerankResponses', uri.toString(), 0, [2, 1]);
    assert.deepEqual(readJournal(journal).active.find((e) => e.seq === seq)?.ranking, [2, 1]);
    await waitFor(async () => ((await lensTitles(uri)).some((t) => t.startsWith('✎') && t.includes('re-ranked')) ? true : undefined), 'the re-ranked lens');
    // "Arr" was best; now "no" (2 characters) is.
    const found = await vscode.commands.executeCommand<FilterResult>('rewardlens.filterRecords', uri.toString(), 'category=roleplay&len.chosen=2');
    assert.deepEqual(found.matches, [0]);
  });
  test('label-vs-human and model-vs-human filter by the label store and a scores file, on the curated pairs', async () => {
    const other = join(workspaceFolder().fsPath, 'curation-disagree.jsonl');
    writeFileSync(other, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const store = storeFileFor(other);
    const scores = join(workspaceFolder().fsPath, 'curation-disagree.scores.json');
    try {
      const d = await Dataset.open(other);
      const ids = [0, 1, 2].map((i) => d.read(i).record!.id);
      d.close();
      // Record 1: the labels prefer "no" to the human's "Arr". Record 3: the model prefers "5" to "4".
      const labels = LabelStore.open(store);
      labels.append({
        type: 'label',
        key: `t|${ids[0]}|p`,
        setup: 'ratings',
        record: ids[0],
        index: 0,
        category: 'roleplay',
        a: 0,
        b: 1,
        point: 'p',
        winner: 1,
        source: 'ratings:test',
        result: 'consistent',
        ts: '2026-01-01T00:00:00Z',
      });
      labels.close();
      writeFileSync(
        scores,
        JSON.stringify({
          records: [
            { id: ids[0], logits: [1, 0] },
            { id: ids[1], logits: [0, 1] },
            { id: ids[2], logits: [0, 2] },
          ],
        }),
      );
      const editor = await openEditor('curation-disagree.jsonl');
      const uri = editor.document.uri.toString();
      const byLabels = await vscode.commands.executeCommand<FilterResult>('rewardlens.filterRecords', uri, 'label-vs-human=1');
      assert.deepEqual(byLabels.matches, [0]);
      // A scores file relative to the dataset's folder, as a shared query names it.
      const byModel = await vscode.commands.executeCommand<FilterResult>('rewardlens.filterRecords', uri, 'model-vs-human=curation-disagree.scores.json');
      assert.deepEqual(byModel.matches, [2]);
      await vscode.commands.executeCommand('rewardlens.flipPreference', uri, 0);
      const afterFlip = await vscode.commands.executeCommand<FilterResult>('rewardlens.filterRecords', uri, 'label-vs-human=1');
      assert.deepEqual(afterFlip.matches, [], 'flipped, record 1 agrees with its labels');
    } finally {
      for (const f of [other, store, scores, journalFileFor(other)]) rmSync(f, { force: true });
    }
  });
});
