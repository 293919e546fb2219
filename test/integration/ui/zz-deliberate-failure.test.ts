import type { UiContext } from './harness';
import { openCommandPalette } from './harness';
export async function paletteShowsACommandThatDoesNotExist({ page }: UiContext): Promise<void> {
  const rows = await openCommandPalette(page, 'RewardLens: No Such Command');
  await rows.filter({ hasText: 'RewardLens: No Such Command' }).first().waitFor({ state: 'visible', timeout: 3000 });
}
