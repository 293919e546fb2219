/** A component's checkpoint: its named parts (encoder, head, lora, …) saved together and loaded back into live parameters. */
import { loadCheckpoint, saveCheckpoint } from '../model/checkpoint';
import { tf } from '../model/tf';
import { FileError } from '../io/file-error';
import type { NamedParams } from './fit';

export function saveParts(file: string, parts: Record<string, NamedParams>, manifest: Record<string, unknown>): void {
  saveCheckpoint(file, parts, manifest);
}

/** Loads a checkpoint's tensors into existing parameters, checking names and shapes. */
export function loadParts(file: string, parts: Record<string, NamedParams>): Record<string, unknown> {
  const loaded = loadCheckpoint(file);
  for (const [part, params] of Object.entries(parts)) {
    const stored = loaded.parts[part];
    if (!stored) throw new FileError(file, `checkpoint has no part '${part}' (has ${Object.keys(loaded.parts).join(', ')})`);
    for (const [name, variable] of params.named()) {
      const t = stored.get(name);
      if (!t) throw new FileError(file, `part '${part}' has no tensor '${name}'`);
      if (t.shape.join('x') !== variable.shape.join('x')) {
        throw new FileError(file, `${part}/${name} has shape [${t.shape.join(', ')}], the model expects [${variable.shape.join(', ')}]`);
      }
      tf.tidy(() => variable.assign(tf.tensor(t.data, t.shape)));
    }
  }
  return loaded.manifest;
}
