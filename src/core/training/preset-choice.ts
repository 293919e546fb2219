import type { PresetName } from '../model/config';

/**
 * The model size a first training run should default to. `small` (d 256, 4 layers) on a 2-core machine
 * sits at step 0 for minutes and, on a few thousand pairs, learns no more than `tiny`: it is the default
 * only with the cores to train it and the data to use it. A preset the user set explicitly wins (the caller
 * checks that).
 */
export const SMALL_MIN_CORES = 8;
export const SMALL_MIN_PAIRS = 5_000;

export function recommendedPreset(cores: number, pairs: number | undefined): { preset: PresetName; reason: string } {
  const coreText = `${cores} CPU core${cores === 1 ? '' : 's'}`;
  if (cores < SMALL_MIN_CORES) return { preset: 'tiny', reason: `${coreText}: small would take minutes per step here` };
  if (pairs !== undefined && pairs < SMALL_MIN_PAIRS) return { preset: 'tiny', reason: `${pairs.toLocaleString('en-US')} preference pairs: too few for small` };
  return { preset: 'small', reason: `${coreText}${pairs !== undefined ? `, ${pairs.toLocaleString('en-US')} pairs` : ''}` };
}

/**
 * Time left from steps done so far at the rate of the current phase, `~3 min left`; undefined until a
 * rate can be measured (no step done, or no total).
 */
export function etaText(stepsDone: number, totalSteps: number | undefined, elapsedSeconds: number): string | undefined {
  if (totalSteps === undefined || totalSteps <= 0 || stepsDone <= 0 || elapsedSeconds <= 0 || stepsDone > totalSteps) return undefined;
  const left = ((totalSteps - stepsDone) * elapsedSeconds) / stepsDone;
  if (left < 60) return `~${Math.max(1, Math.round(left))} s left`;
  if (left < 3600) return `~${Math.round(left / 60)} min left`;
  const h = Math.floor(left / 3600);
  return `~${h} h ${Math.round((left - h * 3600) / 60)} min left`;
}
