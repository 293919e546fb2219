// What UI tests get from the runner (scripts/integration.mjs), and helpers to drive the VS Code
// workbench with playwright. Not a test file itself (only `*.test.ts` files are run).
//
// A UI test file exports async functions; each one is a test, named after the function:
//
//   export async function commandPaletteListsOpenDataset({ page }: UiContext): Promise<void> {
//     await runCommand(page, 'RewardLens: Open Dataset');
//   }
//
// All tests share one workbench window (RewardLens loaded from the working tree, the sample folder
// open). Before each test the runner closes editors, notifications and widgets; on failure it
// saves a screenshot to .test-tmp/screenshots/.
import type { FrameLocator, Locator, Page } from 'playwright-core';

export interface UiContext {
  /** The workbench window. */
  page: Page;
  /** Absolute path of the opened folder (a throw-away copy of test/fixtures/samples). */
  workspace: string;
  /** Prints a line in the runner's output. */
  log(message: string): void;
}

export type UiTest = (ui: UiContext) => Promise<void>;

const ROW = '.quick-input-widget .quick-input-list .monaco-list-row';

/** Opens the command palette (F1) and types `text` after the `>` prompt. */
export async function openCommandPalette(page: Page, text = ''): Promise<Locator> {
  const input = page.locator('.quick-input-widget .quick-input-box input');
  // A key press can be lost while the workbench moves focus (a webview closing, a notification); ask again.
  for (let attempt = 1; ; attempt++) {
    await page
      .locator('.monaco-workbench')
      .click({ position: { x: 5, y: 5 }, force: true })
      .catch(() => undefined);
    await page.keyboard.press(attempt % 2 ? 'F1' : 'Control+Shift+P');
    try {
      await input.waitFor({ state: 'visible', timeout: attempt < 3 ? 5_000 : 15_000 });
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.keyboard.press('Escape');
    }
  }
  if (text) await input.pressSequentially(text, { delay: 5 });
  return page.locator(ROW);
}

/** Runs a command through the palette by its full label, e.g. `View: Close All Editors`. */
export async function runCommand(page: Page, label: string): Promise<void> {
  // The palette can close under us before Enter (focus moving to a webview or a toast as it opens): the row is then
  // left in the DOM, hidden. Open it again rather than wait on a row nobody will show.
  for (let attempt = 1; ; attempt++) {
    const rows = await openCommandPalette(page, label);
    const row = rows.filter({ has: page.locator('.label-name', { hasText: label }) }).first();
    const timeout = attempt < 3 ? 5_000 : 15_000;
    try {
      await row.waitFor({ state: 'visible', timeout });
      await page.locator(`${ROW}.focused`, { hasText: label }).waitFor({ timeout });
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
      await page.keyboard.press('Escape');
    }
  }
  await page.keyboard.press('Enter');
  // The palette closes, or gives way at once to a quick pick of the command (the widget then stays shown).
  await page.locator(ROW, { hasText: label }).first().waitFor({ state: 'hidden' });
}

/** Opens a workspace file through Quick Open (Ctrl+P) and waits for its editor tab. */
export async function openFile(page: Page, relativePath: string): Promise<void> {
  const name = relativePath.split('/').pop() ?? relativePath;
  // A file a test has just written may not be in Quick Open's file index yet: ask again until it is.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(relativePath);
    try {
      await page
        .locator(ROW, { hasText: name })
        .first()
        .waitFor({ timeout: attempt < 4 ? 5_000 : 15_000 });
      break;
    } catch (e) {
      if (attempt >= 4) throw e;
      await page.keyboard.press('Escape');
    }
  }
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor();
}

/** The editor of the active tab. */
export function activeEditor(page: Page): Locator {
  return page.locator('.editor-group-container.active .monaco-editor').first();
}

/** CodeLens texts shown in the active editor (waits until at least one is visible). */
export async function codeLensTexts(page: Page, timeoutMs = 15_000): Promise<string[]> {
  const lenses = activeEditor(page).locator('.codelens-decoration');
  await lenses.first().waitFor({ timeout: timeoutMs });
  return lenses.allInnerTexts();
}

/** Hovers over `target` and returns the hover widget once it is visible. */
export async function hover(page: Page, target: Locator): Promise<Locator> {
  await target.hover();
  const widget = page.locator('.monaco-hover:not(.hidden)').first();
  await widget.waitFor({ state: 'visible' });
  return widget;
}

/** The content frame of the active webview panel. */
export function activeWebview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

/** Texts of the visible notification toasts. */
export async function notifications(page: Page): Promise<string[]> {
  return page.locator('.notifications-toasts .notification-list-item-message').allInnerTexts();
}

/** Brings the window back to a neutral state: no widgets, notifications or editors. */
export async function resetWorkbench(page: Page): Promise<void> {
  await page.keyboard.press('Escape');
  await page.keyboard.press('Escape');
  if ((await page.locator('.notifications-toasts .notification-toast').count()) > 0) {
    await runCommand(page, 'Notifications: Clear All Notifications');
  }
  const tabs = page.locator('.editor-group-container .tabs-container .tab');
  if ((await tabs.count()) > 0) {
    await runCommand(page, 'View: Close All Editors');
    // Unsaved editors (rare: the web workbench auto-saves by default) make VS Code ask; don't save.
    const dialog = page.locator('.monaco-dialog-box');
    await Promise.race([dialog.waitFor(), tabs.first().waitFor({ state: 'detached' })]);
    if (await dialog.isVisible()) await dialog.locator('.monaco-button', { hasText: "Don't Save" }).click();
    await tabs.first().waitFor({ state: 'detached' });
  }
}
