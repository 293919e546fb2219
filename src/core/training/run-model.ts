import { existsSync, readFileSync } from 'node:fs';
import { isDecoder } from '../model/config';
import type { RunModel } from '../model/dmoerm';
import { TextTokenizer } from '../model/tokenizer';
import type { VocabMapJson } from '../model/vocab';
import { VocabMap } from '../model/vocab';
import { FileError } from '../io/file-error';
import { RunFolder } from './run-folder';

/** Reads a finished run's model.json, or says why it cannot. */
export function readRunModel(runDir: string): { run: RunFolder; model: RunModel } {
  const run = RunFolder.open(runDir);
  const file = run.file('model');
  if (!existsSync(file)) throw new FileError(runDir, `the run has not finished training (no model.json); resume it first`);
  let model: RunModel;
  try {
    model = JSON.parse(readFileSync(file, 'utf8')) as RunModel;
  } catch (e) {
    throw new FileError(file, `cannot read JSON (${(e as Error).message})`);
  }
  if (model.format !== 'rewardlens-model' || model.version !== 1)
    throw new FileError(file, `not a RewardLens run model (format ${JSON.stringify(model.format)}, version ${JSON.stringify(model.version)})`);
  return { run, model };
}

/** The tokenizer a run trained with, reading sequences as its base's family does. */
export function runTokenizer(run: RunFolder, model: Pick<RunModel, 'encoder'>): TextTokenizer {
  return TextTokenizer.fromFile(run.file('tokenizer'), isDecoder(model.encoder) ? 'decoder' : 'bert');
}

/** The compact vocabulary a run's checkpoints were trained with (`vocab.json`). */
export function readRunVocab(run: RunFolder): VocabMap {
  return VocabMap.fromJSON(JSON.parse(readFileSync(run.file('vocab'), 'utf8')) as VocabMapJson);
}
