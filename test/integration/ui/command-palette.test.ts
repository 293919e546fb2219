import type { UiContext } from './harness';
import { activeEditor, openCommandPalette, openFile } from './harness';

export async function commandPaletteListsRewardLensCommands({ page }: UiContext): Promise<void> {
  const rows = await openCommandPalette(page, 'RewardLens:');
  await rows.filter({ hasText: 'RewardLens: Open Dataset' }).first().waitFor({ state: 'visible' });
  await page.keyboard.press('Escape');
}

export async function sampleDatasetOpensInAnEditor({ page }: UiContext): Promise<void> {
  await openFile(page, 'hh-rlhf-harmless.sample.jsonl');
  await activeEditor(page).locator('.view-line', { hasText: '"chosen"' }).first().waitFor({ state: 'visible' });
}
