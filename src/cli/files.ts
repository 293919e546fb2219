import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { assertNotEditsJournal } from '../core/curation/journal';
import { FileError } from '../core/io/file-error';
import { checkInput } from '../core/io/input-file';
import { assertNotInput } from '../core/io/safe-output';
import { assertNotLabelStore } from '../core/labelling/store';
import { RUN_FILES } from '../core/training/run-folder';

/** Checks of the files a command is given that only the CLI makes (core checks every input with checkInput). */

/** Refuses an output of a command that is one of its inputs, a label store (paid judge calls) or an edits journal (curation). */
export function checkOutput(out: string, inputs: readonly (string | undefined)[]): void {
  assertNotInput(out, inputs);
  assertNotLabelStore(out);
  assertNotEditsJournal(out);
}

/** A run folder to read: a folder with a run.json, so that a wrong folder is the user's error, not ours. */
export function checkRunFolder(dir: string): void {
  checkInput(dir, 'directory');
  if (!existsSync(join(dir, RUN_FILES.config))) throw new FileError(dir, `is not a RewardLens run folder (it has no ${RUN_FILES.config})`);
}
