// UI test of the Label Report webview: a store filled by the labelling engine against the fake judge
// (in this runner process, as the CLI would), then "RewardLens: Show Label Report" in the workbench.
// The screenshot is saved to .test-tmp/screenshots/rewardlens-label-report.png for people to look at.
import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { Dataset } from '../../../src/core/dataset/dataset';
import { runLabelJob } from '../../../src/core/labelling/job';
import { OpenAIProvider } from '../../../src/core/labelling/openai-provider';
import { defaultPointsConfig } from '../../../src/core/labelling/points';
import { storeFileFor } from '../../../src/core/labelling/store';
import { DEFAULT_TEMPLATES } from '../../../src/core/labelling/templates';
import { FakeJudgeServer } from '../../support/fake-judge-server';
import type { UiContext } from './harness';
import { activeWebview, codeLensTexts, runCommand } from './harness';

const HH = 'hh-rlhf-harmless.sample.jsonl';
/** .test-tmp/screenshots of the repository (this file runs from dist/test/integration/ui). */
const SCREENSHOTS = join(__dirname, '..', '..', '..', '..', '.test-tmp', 'screenshots');

/** Labels the first `records` records of a workspace file into its default store (`.rewardlens/` beside it). */
async function labelWithFakeJudge(file: string, records: number): Promise<void> {
  const judge = await FakeJudgeServer.start({ biasShare: 0.25, invalidShare: 0.1 });
  const dataset = await Dataset.open(file, { workers: 1 });
  try {
    const summary = await runLabelJob({
      dataset,
      provider: new OpenAIProvider({ baseUrl: judge.url, model: 'fake-judge' }),
      store: storeFileFor(file),
      points: defaultPointsConfig(),
      templates: DEFAULT_TEMPLATES.zh,
      limitRecords: records,
      concurrency: 8,
    });
    assert.equal(summary.status, 'completed', summary.error);
  } finally {
    dataset.close();
    await judge.close();
  }
}

async function openWorkspaceFile(page: Page, name: string): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  await page.keyboard.press('Control+P');
  await input.waitFor({ state: 'visible' });
  await input.fill(name);
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row.focused', { hasText: name }).waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor();
}

async function webviewContent(page: Page): Promise<FrameLocator> {
  const frame = activeWebview(page);
  await frame.locator('#app[aria-busy="false"]').waitFor({ timeout: 20_000 });
  return frame;
}

export async function labelReportRendersItsTable({ page, workspace }: UiContext): Promise<void> {
  await labelWithFakeJudge(join(workspace, HH), 6);
  await openWorkspaceFile(page, HH);
  await codeLensTexts(page);
  await runCommand(page, 'RewardLens: Show Label Report');
  const frame = await webviewContent(page);
  await frame.locator('h1', { hasText: `Labels: ${HH}` }).waitFor();
  // HH-RLHF records have no category: they are labelled with the "overall" points.
  const table = frame.locator('vscode-table.report');
  await table.locator('vscode-table-cell', { hasText: 'intent_conformity' }).waitFor();
  const headers = await table.locator('vscode-table-header-cell').allInnerTexts();
  for (const h of ['Asked', 'Consistent', 'Inconsistent', 'Invalid', 'Kept', 'Hum. overall'])
    assert.ok(
      headers.some((t) => t.trim() === h),
      `no "${h}" column in ${JSON.stringify(headers)}`,
    );
  const rows = table.locator('vscode-table-body vscode-table-row');
  assert.equal(await rows.count(), 5 + 1, 'five points of "overall" and the totals row');
  const totals = (await rows.last().locator('vscode-table-cell').allInnerTexts()).map((t) => t.trim());
  assert.equal(totals[0], 'all');
  assert.equal(totals[3], '30', `6 records × 1 pair × 5 points asked: ${JSON.stringify(totals)}`);
  assert.ok(await frame.locator('vscode-button', { hasText: 'Export points.jsonl' }).isVisible());
  const dark = (await page.locator('.monaco-workbench.vs-dark').count()) > 0;
  if (!dark) await runCommand(page, 'Preferences: Toggle between Light/Dark Themes');
  try {
    await page.waitForTimeout(500);
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'rewardlens-label-report.png') });
  } finally {
    if (!dark) await runCommand(page, 'Preferences: Toggle between Light/Dark Themes');
  }
}
