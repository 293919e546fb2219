// UI test of reward scores in the editor: the shipped demo model (models/demo/) chosen through "RewardLens:
// Select Reward Model…" (which stores it in rewardlens.scoring.model), then the HH-RLHF sample opened;
// the CodeLens the workbench renders must carry the router's decision and each response's reward — the
// same numbers `rewardlens score` computes for that record — and is saved to
// .test-tmp/screenshots/rewardlens-score-codelens.png.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Page } from 'playwright-core';
import type { FileScore } from '../../../src/core/scoring/score-file';
import type { UiContext } from './harness';
import { activeEditor, openFile, runCommand } from './harness';

const run = promisify(execFile);
const HH = 'hh-rlhf-harmless.sample.jsonl';
/** This file runs from dist/test/integration/ui. */
const ROOT = join(__dirname, '..', '..', '..', '..');
const SCREENSHOTS = join(ROOT, '.test-tmp', 'screenshots');
const DEMO = join(ROOT, 'models', 'demo', 'model.onnx');
const ROW = '.quick-input-widget .quick-input-list .monaco-list-row';

/** Picks a row of the "Select Reward Model…" quick pick. */
async function selectRewardModel(page: Page, row: string): Promise<void> {
  await runCommand(page, 'RewardLens: Select Reward Model…');
  const pick = page.locator(ROW, { hasText: row }).first();
  await pick.waitFor({ timeout: 15_000 });
  await pick.click();
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
}

const signed = (x: number): string => (x.toFixed(2) === '-0.00' || x.toFixed(2) === '0.00' ? '0.00' : `${x > 0 ? '+' : ''}${x.toFixed(2)}`);

/**
 * The rendered texts of the score lenses, once at least three match `route`: cheap lenses (category ·
 * responses · ranking) render first, score lenses when scored. Lenses of one line share a
 * `.codelens-decoration`, one child each (separated by ` | `); a score lens starts with the router's
 * git-merge icon.
 */
async function waitForLenses(page: Page, route: RegExp): Promise<string[]> {
  const lenses = activeEditor(page).locator('.codelens-decoration > *', { has: page.locator('.codicon-git-merge') });
  await lenses.first().waitFor({ timeout: 30_000 });
  const deadline = Date.now() + 15_000;
  for (;;) {
    // textContent: lenses of lines scrolled out of view stay in the DOM with no rendered (inner) text.
    const texts = await lenses.evaluateAll((els) => els.map((e) => (e.textContent ?? '').trim()));
    if (texts.filter((t) => route.test(t)).length >= 3 || Date.now() > deadline) return texts;
    await page.waitForTimeout(200);
  }
}

export async function codeLensShowsRouterDecisionAndRewards({ page, workspace }: UiContext): Promise<void> {
  assert.ok(existsSync(DEMO), `${DEMO}: the demo model is missing (build it first)`);
  const categories = (JSON.parse(readFileSync(DEMO.replace(/\.onnx$/, '.manifest.json'), 'utf8')) as { categories: string[] }).categories;
  // What the model says about the file, computed outside VS Code, to compare the rendered lens with.
  const cli = join(ROOT, 'dist', 'cli.js');
  const { stdout } = await run(process.execPath, [cli, 'score', DEMO, join(workspace, HH), '--json'], { timeout: 30_000, maxBuffer: 16 * 2 ** 20 });
  const first = (JSON.parse(stdout) as FileScore).records.find((r) => r.index === 0);
  assert.ok(first?.category !== undefined, 'the CLI scored record 1 with a routed category');

  await selectRewardModel(page, 'Demo model');
  try {
    await openFile(page, HH);
    // Cheap lenses (category · responses · ranking) render first; the score lenses when resolved.
    const route = new RegExp(
      `^(${categories.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|')}) \\d+% · R[12] [+-]?\\d+\\.\\d{2} › R[12] [+-]?\\d+\\.\\d{2} · (✓ 1/1|✗ 0/1) pairs, top [+-]?\\d+\\.\\d{2}$`,
    );
    const texts = await waitForLenses(page, route);
    for (const t of texts) assert.match(t, route);
    // Record 1's lens: the router's category with its probability and the rewards the CLI computed, best
    // first; HH-RLHF's chosen transcript is response 1, so the top margin is R1 − R2.
    const [r1, r2] = first.logits;
    const p = first.probabilities![categories.indexOf(first.category)];
    const margin = r1 - r2;
    const rewards = (r1 >= r2 ? [0, 1] : [1, 0]).map((i) => `R${i + 1} ${signed(first.logits[i])}`).join(' › ');
    const expected = `${first.category} ${Math.round(p * 100)}% · ${rewards} · ${margin > 0 ? '✓ 1/1' : '✗ 0/1'} pairs, top ${signed(margin)}`;
    assert.ok(texts.includes(expected), `no lens reads "${expected}" in ${JSON.stringify(texts.slice(0, 4))}`);
    assert.ok(texts.length >= 3, `${texts.length} score lenses rendered`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'rewardlens-score-codelens.png') });
  } finally {
    // Later tests must not see score lenses: clear the model the workspace settings now hold.
    await selectRewardModel(page, 'No reward model').catch(() => page.keyboard.press('Escape'));
  }
}
