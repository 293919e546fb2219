// UI test of curation (issue 13, "Done when"): a preference flipped from the record hover's command
// link, the edit CodeLens showing it, the curated file exported through "Export Curated Dataset…"
// (format quick pick, save dialog), and a tiny model trained on the export with the CLI. The original
// file is never written: the edit lives in .rewardlens/<file>.edits.jsonl.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeSyntheticPreferences } from '../../support/synthetic-prefs';
import { trainTinyModel } from '../../support/tiny-model';
import type { UiContext } from './harness';
import { activeEditor, activeWebview, codeLensTexts, openFile, runCommand } from './harness';

const ROW = '.quick-input-widget .quick-input-list .monaco-list-row';

async function waitUntil<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function flipFromHoverExportAndTrain(ui: UiContext): Promise<void> {
  const { page, workspace } = ui;
  const name = 'curation.jsonl';
  const file = join(workspace, name);
  writeSyntheticPreferences(file, 60, 5);
  const original = readFileSync(file, 'utf8');
  const first = JSON.parse(original.split('\n')[0]) as { preference: { ranking: number[] } };

  await openFile(page, name);
  const before = await codeLensTexts(page);
  assert.ok(before.length > 0 && !before.some((t) => t.includes('✎')), `no edit lens before an edit: ${before.join(' | ')}`);

  // Hover on the first record's line, near its start, and click the hover's Flip link.
  const line = activeEditor(page).locator('.view-line').first();
  await line.hover({ position: { x: 80, y: 8 } });
  const widget = page.locator('.monaco-hover:not(.hidden)').first();
  await widget.waitFor({ state: 'visible' });
  await widget.locator('a', { hasText: 'Flip' }).first().click();

  const after = await waitUntil('the CodeLens to show the flip', async () => {
    const texts = await codeLensTexts(page);
    return texts.some((t) => t.includes('✎ flipped')) ? texts : undefined;
  });
  ui.log(`lenses after the flip: ${after.slice(0, 2).join(' | ')}`);
  // The edit decoration's hover names the edit (the record hover shows beside it).
  await page.mouse.move(0, 0);
  await page.keyboard.press('Escape');
  await waitUntil('the decoration hover', async () => {
    await line.hover({ position: { x: 120, y: 8 } });
    const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: 'edit #1: flipped' }).first();
    return (
      (await hover.isVisible().catch(() => false)) ||
      (await hover
        .waitFor({ state: 'visible', timeout: 2000 })
        .then(() => true)
        .catch(() => undefined))
    );
  });
  assert.equal(readFileSync(file, 'utf8'), original, 'the dataset itself is not written');
  assert.ok(existsSync(join(workspace, '.rewardlens', `${name}.edits.jsonl`)));

  // Export: the format quick pick, then the save dialog's proposed file.
  await runCommand(page, 'RewardLens: Export Curated Dataset…');
  const canonical = page
    .locator(ROW)
    .filter({ has: page.locator('.label-name', { hasText: /^canonical$/ }) })
    .first();
  await canonical.waitFor({ timeout: 10_000 });
  await canonical.click();
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await waitUntil(
    'the save dialog',
    async () => ((await input.isVisible()) && /curation\.curated\.jsonl$/.test(await input.inputValue())) || undefined,
    10_000,
  );
  await page.keyboard.press('Enter');
  const out = join(workspace, 'curation.curated.jsonl');
  await waitUntil('the exported file', () => existsSync(out) || undefined);
  const exported = readFileSync(out, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { preference: { ranking: number[] } });
  assert.equal(exported.length, 60);
  const r = first.preference.ranking;
  const best = r.indexOf(Math.min(...r));
  const worst = r.indexOf(Math.max(...r));
  const flipped = r.slice();
  [flipped[best], flipped[worst]] = [flipped[worst], flipped[best]];
  assert.deepEqual(exported[0].preference.ranking, flipped, 'record 1 is exported flipped');

  // Train a tiny model on the export (wasm backend), as a user would from a terminal.
  const runDir = join(workspace, '.rewardlens', 'runs', 'curated-single');
  const { summary: stdout } = await trainTinyModel({
    dir: workspace,
    dataset: out,
    method: 'single',
    seed: 3,
    settings: ['maxSteps.base=10', 'evalEvery=5'],
    run: runDir,
    model: null,
    timeoutMs: 50_000,
  });
  assert.ok(existsSync(join(runDir, 'run.json')), stdout.slice(-500));
  const config = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { dataset: string };
  assert.equal(config.dataset, out);
}

export async function dropFromTheRecordBrowser(ui: UiContext): Promise<void> {
  const { page, workspace } = ui;
  const name = 'curation-browser.jsonl';
  writeSyntheticPreferences(join(workspace, name), 5, 9);
  await openFile(page, name);
  await codeLensTexts(page);
  await runCommand(page, 'RewardLens: Browse Records');
  const frame = activeWebview(page);
  await frame.locator('#app[aria-busy="false"]').waitFor({ timeout: 20_000 });
  const second = frame.locator('.rows .row[data-index="1"]:not(.loading)');
  await second.waitFor();
  await second.click();
  await frame.locator('.detail h2', { hasText: 'Record 2' }).waitFor();
  assert.equal((await frame.locator('vscode-button[data-edit]').allInnerTexts()).map((t) => t.trim()).join(' '), 'Flip Tie Re-rank… Drop Tag… Note… Undo');
  await frame.locator('vscode-button[data-edit="drop"]').click();
  const journal = join(workspace, '.rewardlens', `${name}.edits.jsonl`);
  // The journal exists, empty, between its open for append and the write of the line: a whole line or nothing.
  const line = await waitUntil('the drop in the journal', () => {
    const text = existsSync(journal) ? readFileSync(journal, 'utf8') : '';
    return text.endsWith('\n') ? (JSON.parse(text.trim()) as { kind: string; line: number }) : undefined;
  });
  assert.equal(line.kind, 'drop');
  assert.equal(line.line, 2);

  // The overview counts the edits by kind.
  await runCommand(page, 'View: Close All Editors');
  await openFile(page, name);
  await runCommand(page, 'RewardLens: Show Dataset Overview');
  const overview = activeWebview(page);
  await overview.locator('#app[aria-busy="false"]').waitFor({ timeout: 20_000 });
  const edits = overview.locator('section.edits');
  await edits.waitFor();
  assert.match(await edits.innerText(), /Edits\s+1[\s\S]*drop\s+1/i);
}
