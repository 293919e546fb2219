// UI test of the training chart (the paper's Figure 4): a run folder written here as plain files, then
// "RewardLens: Show Training Chart" in the workbench; the chart must draw one line per series, show
// hostile expert names as text, and is saved to .test-tmp/screenshots/rewardlens-training-chart.png.
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { UiContext } from './harness';
import { activeWebview, runCommand } from './harness';

const SCREENSHOTS = join(__dirname, '..', '..', '..', '..', '.test-tmp', 'screenshots');
const HOSTILE = 'empathy<img src=x onerror="document.title=1">';

function writeRun(dir: string): void {
  mkdirSync(join(dir, 'checkpoints'), { recursive: true });
  writeFileSync(join(dir, 'run.json'), JSON.stringify({ method: 'dmoerm', dataset: join(dir, 'data.jsonl'), preset: 'tiny', seed: 1 }));
  writeFileSync(join(dir, 'state.json'), JSON.stringify({ completed: ['base'], finished: true }));
  const lines: object[] = [];
  for (let step = 0; step <= 100; step += 20)
    lines.push({ ts: 't', phase: 'base', step, loss: 0.7 - step / 500, trainAcc: 0.5 + step / 300, valAcc: 0.5 + step / 400 });
  for (const expert of ['roleplay/conversational sense', `roleplay/${HOSTILE}`]) {
    for (let step = 0; step <= 60; step += 20)
      lines.push({
        ts: 't',
        phase: 'phase2',
        expert,
        step,
        loss: 0.6,
        trainAcc: 0.55 + step / 400,
        valAcc: 0.52 + step / (expert.includes('img') ? 600 : 300),
      });
  }
  writeFileSync(join(dir, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

export async function trainingChartDrawsItsSeries({ page, workspace }: UiContext): Promise<void> {
  writeRun(join(workspace, '.rewardlens', 'runs', 'ui-chart-run'));
  await runCommand(page, 'RewardLens: Show Training Chart');
  const pick = page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: 'ui-chart-run' });
  await pick.first().waitFor({ timeout: 15_000 });
  await pick.first().click();
  const frame = activeWebview(page);
  await frame.locator('#app[aria-busy="false"]').waitFor({ timeout: 20_000 });
  const lines = frame.locator('svg.chart polyline');
  await lines.first().waitFor();
  assert.ok((await lines.count()) >= 3, `${await lines.count()} lines drawn for 3 series`);
  // The page's stylesheet (media/<script>.css) is what gives the lines their theme colours.
  const stroke = await lines.first().evaluate((e) => getComputedStyle(e).strokeWidth);
  assert.notEqual(stroke, '1px', `the chart's stylesheet is applied (stroke-width ${stroke})`);
  const legend = await frame.locator('.legend').innerText();
  assert.ok(legend.includes(HOSTILE), `the hostile expert name is shown as text: ${legend}`);
  assert.equal(await frame.locator('img').count(), 0, 'no element was made from the expert name');
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, 'rewardlens-training-chart.png') });
}
