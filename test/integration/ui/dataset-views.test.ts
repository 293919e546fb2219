// UI tests of what RewardLens shows: CodeLens text in the editor, the overview and record browser
// webviews, and dataset text that looks like HTML staying text. Screenshots of the views are saved
// to .test-tmp/screenshots/rewardlens-*.png for people to look at.
import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import type { UiContext } from './harness';
import { activeEditor, activeWebview, codeLensTexts, hover, runCommand } from './harness';

const HH = 'hh-rlhf-harmless.sample.jsonl';

/** .test-tmp/screenshots of the repository (this file runs from dist/test/integration/ui). */
const SCREENSHOTS = join(__dirname, '..', '..', '..', '..', '.test-tmp', 'screenshots');

async function screenshot(page: Page, name: string): Promise<void> {
  const dir = SCREENSHOTS;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `rewardlens-${name}.png`) });
}

/** The webview's content once its script has rendered (`aria-busy` is cleared). */
async function webviewContent(page: Page): Promise<FrameLocator> {
  const frame = activeWebview(page);
  await frame.locator('#app[aria-busy="false"]').waitFor({ timeout: 20_000 });
  return frame;
}

export async function codeLensShowsTheHumanRanking({ page }: UiContext): Promise<void> {
  await openWorkspaceFile(page, HH);
  const deadline = Date.now() + 15_000;
  let texts: string[] = [];
  // Lenses appear unresolved first; wait for the resolved titles.
  while (Date.now() < deadline) {
    texts = await codeLensTexts(page);
    if (texts.some((t) => t.includes('ranking'))) break;
    await page.waitForTimeout(200);
  }
  assert.ok(
    texts.some((t) => t.trim() === 'no category · 2 responses · ranking #1 ≻ #2'),
    `no lens reads "no category · 2 responses · ranking #1 ≻ #2" in ${JSON.stringify(texts.slice(0, 5))}`,
  );
  // Hovering over the chosen transcript names response 1 with its rank.
  const token = activeEditor(page).locator('.view-line span > span', { hasText: 'pranks with a pen' }).first();
  const widget = await hover(page, token);
  await widget.getByText('(under the cursor)').waitFor();
  const text = await widget.innerText();
  assert.match(text, /Response 1 · human rank 1 — best/);
  await inDarkTheme(page, async () => {
    await page.waitForTimeout(300);
    if ((await widget.isVisible()) === false) await hover(page, token);
    await screenshot(page, 'editor');
  });
}

export async function overviewProblemsJumpToTheirLine({ page }: UiContext): Promise<void> {
  await openWorkspaceFile(page, 'pandalm.sample.jsonl');
  await codeLensTexts(page);
  await runCommand(page, 'RewardLens: Show Dataset Overview');
  const frame = await webviewContent(page);
  await frame.locator('vscode-table-cell', { hasText: 'Grammarly' }).first().waitFor();
  await inDarkTheme(page, async () => {
    await page.waitForTimeout(500);
    await screenshot(page, 'overview-pandalm');
  });
  const link = frame.locator('.problems button.link').first();
  const line = Number(await link.innerText());
  await link.click();
  await page.locator('.tabs-container .tab.active', { hasText: 'pandalm.sample.jsonl' }).waitFor();
  await page
    .locator('.statusbar-item', { hasText: `Ln ${line},` })
    .first()
    .waitFor();
}

export async function overviewRendersTheStatistics({ page }: UiContext): Promise<void> {
  await openWorkspaceFile(page, HH);
  await codeLensTexts(page);
  await runCommand(page, 'RewardLens: Show Dataset Overview');
  const frame = await webviewContent(page);
  await frame.locator('h1', { hasText: HH }).waitFor();
  const table = frame.locator('vscode-table').first();
  await table.waitFor();
  await frame.locator('vscode-table-cell', { hasText: 'no category' }).first().waitFor();
  const records = await frame.locator('.card', { hasText: 'Records' }).first().locator('.card-value').innerText();
  assert.match(records, /^\d{3}$/, `the Records card shows ${records}`);
  await inDarkTheme(page, async () => {
    await page.waitForTimeout(500);
    await screenshot(page, 'overview');
  });
}

export async function recordBrowserShowsRecordsAndDetail({ page }: UiContext): Promise<void> {
  await openWorkspaceFile(page, HH);
  await codeLensTexts(page);
  await runCommand(page, 'RewardLens: Browse Records');
  const frame = await webviewContent(page);
  const third = frame.locator('.rows .row[data-index="2"]');
  await third.waitFor();
  await frame.locator('.rows .row:not(.loading)').first().waitFor();
  await third.click();
  await frame.locator('.detail h2', { hasText: 'Record 3' }).waitFor();
  await frame.locator('.detail .response').first().waitFor();
  assert.equal(await frame.locator('.detail .response').count(), 2);
  // Virtual scrolling: far fewer row elements than records.
  const rendered = await frame.locator('.rows .row').count();
  assert.ok(rendered < 100, `${rendered} rows rendered for 200 records`);
  await inDarkTheme(page, async () => {
    await page.waitForTimeout(500);
    await screenshot(page, 'records');
  });
}

/**
 * Opens a workspace file through Quick Open, pressing Enter only once the *focused* row is the
 * file (the harness's `openFile` can race the filter and open a recently used file instead).
 * Quick Open learns about a new file from the file watcher, so a missing row is retried.
 */
async function openWorkspaceFile(page: Page, name: string): Promise<void> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  const focused = page.locator('.quick-input-widget .quick-input-list .monaco-list-row.focused', { hasText: name });
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Control+P');
    await input.waitFor({ state: 'visible' });
    await input.fill(name);
    try {
      await focused.waitFor({ timeout: 4000 });
      break;
    } catch (e) {
      await page.keyboard.press('Escape');
      if (attempt >= 4) throw e;
      await page.waitForTimeout(1000);
    }
  }
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor();
}

/** Runs `body` with the dark theme (the screenshots show the default dark theme), then toggles back. */
async function inDarkTheme(page: Page, body: () => Promise<void>): Promise<void> {
  const dark = () => page.locator('.monaco-workbench.vs-dark').count();
  const toggled = (await dark()) === 0;
  if (toggled) await runCommand(page, 'Preferences: Toggle between Light/Dark Themes');
  try {
    await body();
  } finally {
    if (toggled) await runCommand(page, 'Preferences: Toggle between Light/Dark Themes');
  }
}

/** Script elements that hold dataset text (VS Code's own injected script and the view bundle do not). */
function injectedScripts(frame: FrameLocator): Promise<number> {
  return frame.locator('script').evaluateAll((els) => els.filter((el) => (el.textContent ?? '').includes('pwned')).length);
}

const XSS_SCRIPT = '<script>document.title="pwned"</script>';
const XSS_IMG = '<img src=x onerror="document.title=\'pwned\'">';

export async function datasetTextThatLooksLikeHtmlStaysText({ page, workspace }: UiContext): Promise<void> {
  const rows = [
    { instruction: `Explain ${XSS_SCRIPT}`, category: XSS_IMG, 'response 1': XSS_IMG, 'response 2': 'plain', label: 0 },
    { instruction: 'Say hi', category: 'greeting', 'response 1': 'hi', 'response 2': XSS_SCRIPT, label: 1 },
  ];
  writeFileSync(join(workspace, 'xss.jsonl'), rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  await openWorkspaceFile(page, 'xss.jsonl');
  await codeLensTexts(page);

  await runCommand(page, 'RewardLens: Show Dataset Overview');
  let frame = await webviewContent(page);
  const cell = frame.locator('vscode-table-cell', { hasText: 'onerror' }).first();
  await cell.waitFor();
  assert.equal(await cell.evaluate((el) => el.textContent?.trim()), XSS_IMG);
  assert.equal(await frame.locator('img').count(), 0, 'an <img> element was created from dataset text');
  assert.equal(await injectedScripts(frame), 0, 'a <script> element was created from dataset text');

  await runCommand(page, 'View: Close All Editors');
  await openWorkspaceFile(page, 'xss.jsonl');
  await runCommand(page, 'RewardLens: Browse Records');
  frame = await webviewContent(page);
  const first = frame.locator('.rows .row[data-index="0"]:not(.loading)');
  await first.waitFor();
  assert.equal(await first.locator('.c-snippet').evaluate((el) => el.textContent), `Explain ${XSS_SCRIPT}`);
  await first.click();
  await frame.locator('.detail .turn').first().waitFor();
  assert.equal(
    await frame
      .locator('.detail .turn .text')
      .first()
      .evaluate((el) => el.textContent),
    `Explain ${XSS_SCRIPT}`,
  );
  assert.equal(
    await frame
      .locator('.detail .response .text')
      .first()
      .evaluate((el) => el.textContent),
    XSS_IMG,
  );
  assert.equal(await frame.locator('img').count(), 0, 'an <img> element was created from dataset text');
  assert.equal(await injectedScripts(frame), 0, 'a <script> element was created from dataset text');
  assert.notEqual(await page.title(), 'pwned');
}
