import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository holding the running test bundle (bundles live at different depths under dist/ and .test-tmp/). */
export function repoRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'src', 'worker', 'train-worker.ts'))) return dir;
  throw new Error(`no repository above ${__dirname}`);
}
