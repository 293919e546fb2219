// Runs in a code-server whose display language is zh-cn (scripts/integration.mjs starts one for
// `*.zh-cn.test.ts` files): RewardLens's manifest strings come from package.nls.zh-cn.json and its
// messages from l10n/bundle.l10n.zh-cn.json. VS Code's own strings stay English (no language pack
// can be installed offline), so only our strings are asserted.
import type { Locator, Page } from 'playwright-core';
import type { UiContext } from './harness';
import { activeWebview, codeLensTexts, notifications, openCommandPalette, openFile } from './harness';

/** The command palette lists RewardLens commands by their Chinese titles (package.nls.zh-cn.json). */
export async function commandPaletteShowsChineseTitles({ page }: UiContext): Promise<void> {
  for (const title of ['RewardLens: 训练奖励模型…', 'RewardLens: 打开数据集…']) {
    // The palette lists the commands known when it opens: right after start-up ours may not be yet.
    for (let attempt = 1; ; attempt++) {
      const rows = await openCommandPalette(page);
      await page.locator('.quick-input-widget .quick-input-box input').fill(`>${title}`);
      try {
        await rows.filter({ hasText: title }).first().waitFor({ timeout: 5_000 });
        break;
      } catch (e) {
        if (attempt >= 4) throw e;
      } finally {
        await page.keyboard.press('Escape');
      }
    }
  }
}

/** A message of the extension comes from the zh-cn bundle (vscode.l10n.t). */
export async function messagesAreChinese({ page }: UiContext): Promise<void> {
  const rows = await openCommandPalette(page);
  await page.locator('.quick-input-widget .quick-input-box input').fill('>RewardLens: 浏览记录');
  const row = rows.filter({ hasText: 'RewardLens: 浏览记录' }).first();
  await row.waitFor();
  await page.keyboard.press('Enter');
  // No dataset is open in this window yet (tests run in name order: the others open one): the
  // command's disabled form says what is missing.
  const toast = page.locator('.notifications-toasts .notification-list-item-message', { hasText: '请先索引一个数据集' });
  await toast
    .first()
    .waitFor({ timeout: 15_000 })
    .catch(async () => {
      throw new Error(`no Chinese notification; shown: ${(await notifications(page)).join(' | ') || 'none'}`);
    });
  const text = await toast.first().innerText();
  if (!text.includes('要浏览记录')) throw new Error(`the command's own part is not translated: ${text}`);
}

/** The dataset status bar item (vscode.l10n.t with a placeholder) and the record CodeLens once a dataset is indexed. */
export async function statusBarAndCodeLensAreChinese({ page }: UiContext): Promise<void> {
  await openFile(page, 'demo.test.jsonl');
  const lenses = await codeLensTexts(page, 30_000);
  if (!lenses.some((t) => t.includes('个回复'))) throw new Error(`CodeLens not in Chinese: ${lenses.slice(0, 4).join(' | ')}`);
  const item = page.locator('.statusbar-item', { hasText: '条记录' });
  await item
    .first()
    .waitFor({ timeout: 30_000 })
    .catch(async () => {
      throw new Error(`no "条记录" in the status bar: ${(await page.locator('.statusbar-item').allInnerTexts()).join(' | ')}`);
    });
}

/** A webview's strings come through the same bundle (webview/lib/l10n.ts): the dataset overview. */
export async function overviewWebviewIsChinese({ page }: UiContext): Promise<void> {
  await openFile(page, 'demo.test.jsonl');
  const rows = await openCommandPalette(page);
  await page.locator('.quick-input-widget .quick-input-box input').fill('>RewardLens: 显示数据集概览');
  await rows.filter({ hasText: 'RewardLens: 显示数据集概览' }).first().waitFor();
  await page.keyboard.press('Enter');
  const view = activeWebview(page);
  await view.locator('.card-label', { hasText: '每条记录的回复数' }).waitFor({ timeout: 30_000 });
  await view.locator('vscode-button', { hasText: '浏览记录' }).waitFor();
  const lang = await view.locator('html').getAttribute('lang');
  if (lang !== 'zh-cn') throw new Error(`the overview's <html lang> is ${lang}`);
}

async function openRewardLensWalkthrough(page: Page): Promise<Locator> {
  // Right after start-up, or while a webview that just opened takes the focus, the palette can come up
  // empty or close again: ask again.
  for (let attempt = 1; ; attempt++) {
    try {
      const rows = await openCommandPalette(page, 'Welcome: Open Walkthrough');
      await rows.filter({ hasText: 'Open Walkthrough' }).first().waitFor({ timeout: 5_000 });
      await page.keyboard.press('Enter');
      await rows.filter({ hasText: 'RewardLens 入门' }).first().click({ timeout: 5_000 });
      break;
    } catch (e) {
      if (attempt >= 4) throw e;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(1_000);
    }
  }
  const container = page.locator('.gettingStartedContainer');
  await container.getByText('打开偏好数据集', { exact: true }).first().waitFor({ timeout: 15_000 });
  return container;
}

/** The walkthrough (package.json contributes.walkthroughs) in Chinese; running a step's command ticks it. */
export async function walkthroughIsChineseAndTicksItsSteps({ page }: UiContext): Promise<void> {
  await openFile(page, 'demo.test.jsonl');
  const walkthrough = await openRewardLensWalkthrough(page);
  for (const title of ['标注能力点，或由已有评分生成', '训练奖励模型', '选择奖励模型', '调试模型给出的奖励']) {
    await walkthrough.getByText(title, { exact: true }).first().waitFor();
  }
  const step = walkthrough.locator('[data-done-step-id$="#openDataset"]').first();
  if ((await step.getAttribute('aria-checked')) === 'true') throw new Error('the first step is ticked before its command ran');
  await walkthrough.getByText('打开偏好数据集', { exact: true }).first().click();
  await walkthrough.getByText('显示数据集概览', { exact: true }).first().click();
  await walkthrough.locator('[data-done-step-id$="#openDataset"][aria-checked="true"]').first().waitFor({ timeout: 10_000 });
}
