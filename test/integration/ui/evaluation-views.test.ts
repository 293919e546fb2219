// UI tests of the analysis views in the workbench: the evaluation report draws its tables (hostile
// category names as text, best cells styled) and the chart (media/chart.css imported); the
// disagreement explorer, on a tiny model trained and exported by the CLI, shows response texts holding
// markup as text. Screenshots go to .test-tmp/screenshots/rewardlens-{evaluation-report,disagreements}.png.
import { strict as assert } from 'node:assert';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordId } from '../../../src/core/dataset/record-id';
import { writeSyntheticPreferences } from '../../support/synthetic-prefs';
import { trainTinyModel } from '../../support/tiny-model';
import type { UiContext } from './harness';
import { activeWebview, openFile, runCommand } from './harness';

const SCREENSHOTS = join(__dirname, '..', '..', '..', '..', '.test-tmp', 'screenshots');
const XSS = '<img src=x onerror="document.title=1">';
const HOSTILE_CATEGORY = `chat${XSS}`;

function writeRun(dir: string, method: string, shift: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'run.json'),
    JSON.stringify({
      method,
      dataset: join(dir, '..', 'data.jsonl'),
      datasetSha256: 'abcdef01'.repeat(8),
      preset: 'tiny',
      seed: 1,
      hyperParams: { testFraction: 0.2 },
    }),
  );
  writeFileSync(join(dir, 'state.json'), JSON.stringify({ completed: ['base'], finished: true }));
  writeFileSync(
    join(dir, 'eval.json'),
    JSON.stringify([
      {
        method,
        overall: 0.6 + shift,
        pairs: 300,
        byCategory: { [HOSTILE_CATEGORY]: { accuracy: 0.55 + shift, pairs: 100 }, roleplay: { accuracy: 0.62 - shift, pairs: 200 } },
      },
    ]),
  );
  const lines = [0, 20, 40, 60].map((step) => ({ ts: 't', phase: 'base', step, loss: 0.7 - step / 500, valAcc: 0.5 + step / 300 + shift }));
  writeFileSync(join(dir, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

export async function evaluationReportDrawsTablesAndCurves({ page, workspace }: UiContext): Promise<void> {
  const runs = join(workspace, '.rewardlens', 'runs');
  writeRun(join(runs, 'ui-report-dmoerm'), 'dmoerm', 0.05);
  writeRun(join(runs, 'ui-report-single'), 'single', 0);
  try {
    await runCommand(page, 'RewardLens: Show Evaluation Report');
    const frame = activeWebview(page);
    await frame.locator('#app[aria-busy="false"] table.report').first().waitFor({ timeout: 20_000 });
    const headers = await frame.locator('table.report th').allInnerTexts();
    assert.ok(headers.includes(HOSTILE_CATEGORY), `the hostile category is a column header, as text: ${headers.join(' | ')}`);
    assert.equal(await frame.locator('img').count(), 0, 'no element was made from a category name');
    const best = frame.locator('tr[data-run$="ui-report-dmoerm"] td.best');
    assert.equal(await best.count(), 2, 'dmoerm is best overall and on the hostile category');
    assert.equal(await best.first().evaluate((e) => getComputedStyle(e).fontWeight), '700', 'the report stylesheet marks best cells');
    await frame.locator('tr[data-run$="ui-report-single"]').click();
    const lines = frame.locator('svg.chart polyline');
    await lines.first().waitFor({ timeout: 10_000 });
    const stroke = await lines.first().evaluate((e) => getComputedStyle(e).strokeWidth);
    assert.notEqual(stroke, '1px', `media/chart.css is imported (stroke-width ${stroke})`);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'rewardlens-evaluation-report.png') });
  } finally {
    for (const name of ['ui-report-dmoerm', 'ui-report-single']) rmSync(join(runs, name), { recursive: true, force: true });
  }
}

export async function disagreementsShowTextsAsText({ page, workspace }: UiContext): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'rl-ui-dis-'));
  const modelDir = join(workspace, '.rewardlens', 'runs', 'ui-disagreements');
  const dataset = join(workspace, 'ui-disagreements.jsonl');
  try {
    mkdirSync(modelDir, { recursive: true });
    await trainTinyModel({
      dir: tmp,
      method: 'single',
      seed: 3,
      records: 40,
      dataSeed: 7,
      settings: ['maxSteps.base=5', 'evalEvery=5'],
      model: join(modelDir, 'model.onnx'),
      timeoutMs: 40_000,
    });

    writeSyntheticPreferences(dataset, 6, 8);
    const texts = [`fine ${XSS}`, `${XSS} not fine at all`];
    for (const order of [texts, [...texts].reverse()]) {
      const r = {
        category: HOSTILE_CATEGORY,
        context: [{ role: 'user', content: 'Say something' }],
        responses: order.map((text) => ({ text })),
        preference: { ranking: [1, 2] },
      };
      appendFileSync(dataset, JSON.stringify({ id: recordId(r as Parameters<typeof recordId>[0]), ...r }) + '\n');
    }
    await openFile(page, 'ui-disagreements.jsonl');
    await runCommand(page, 'RewardLens: Select Reward Model…');
    const pick = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'ui-disagreements/model.onnx' });
    await pick.first().waitFor({ timeout: 15_000 });
    await pick.first().click();
    await openFile(page, 'ui-disagreements.jsonl');
    await runCommand(page, 'RewardLens: Show Disagreements with Human Labels');
    const frame = activeWebview(page);
    await frame.locator('table.rows tbody tr').first().waitFor({ timeout: 30_000 });
    // One of the two hostile pairs is listed whatever the model says: its texts are shown as typed.
    const shown = frame.locator('.response .text', { hasText: '<img src=x' });
    assert.ok((await shown.count()) >= 2, `${await shown.count()} response texts with the markup shown as text`);
    assert.equal(await frame.locator('img').count(), 0, 'no element was made from a response');
    assert.notEqual(await page.title(), '1');
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'rewardlens-disagreements.png') });
    // A line opens the record in the editor.
    await frame.locator('td.line button.link').first().click();
    await page.locator('.tabs-container .tab.active', { hasText: 'ui-disagreements.jsonl' }).waitFor({ timeout: 10_000 });
  } finally {
    // Later tests must not see score lenses: clear the model the workspace settings now hold.
    await runCommand(page, 'RewardLens: Select Reward Model…').catch(() => undefined);
    const none = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'No reward model' });
    await none
      .first()
      .click({ timeout: 5_000 })
      .catch(() => page.keyboard.press('Escape'));
    for (const p of [modelDir, dataset, tmp]) rmSync(p, { recursive: true, force: true });
  }
}
