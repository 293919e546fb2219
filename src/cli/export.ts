import { statSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportRun } from '../core/export/export';
import { manifestFileFor, tokenizerFileFor } from '../core/export/manifest';
import { FileError } from '../core/io/file-error';
import { checkInput } from '../core/io/input-file';
import type { PointsConfig } from '../core/labelling/points';
import { formatConfigErrors } from '../core/jsonc';
import { resolvePoints } from '../core/labelling/setup';
import { COMMON_FLAGS, parseFlags, stringFlags } from './args';
import { UsageError } from './errors';
import { checkOutput, checkRunFolder } from './files';
import { printable } from './format';

/** `rewardlens export` (docs/onnx-export.md): a trained run → MODEL.onnx, its manifest and tokenizer beside it. */

export const EXPORT_USAGE = `  rewardlens export RUN --out MODEL.onnx [--points CONFIG.jsonc] [--json]
  rewardlens score MODEL.onnx FILE [--json] [--threads N] [--batch N]

ONNX (docs/onnx-export.md):
  --out MODEL.onnx     export: where to write the model (MODEL.manifest.json and MODEL.tokenizer.json go beside it)
  --points FILE        export: the points config the labels were made with, for the points' zh/en names (default: the paper's Table 12)
  --threads N          score: onnxruntime intra-op threads (default: all cores)
  --batch N            score: responses per onnxruntime run (default 64)`;

/** A problem the user can fix with the export or score command line; main prints it as one line, exit 2. */
export class OnnxUsageError extends UsageError {}

const exportFlags = {
  ...stringFlags('out', 'points'),
  ...COMMON_FLAGS,
} as const;

export function parseExportArgs(argv: string[]): { help: true } | { help: false; run: string; out: string; points?: PointsConfig; json: boolean } {
  const { values, positionals } = parseFlags(argv, exportFlags);
  if (values.help) return { help: true };
  if (positionals.length !== 1) throw new OnnxUsageError('usage: rewardlens export RUN --out MODEL.onnx');
  const [run] = positionals;
  checkRunFolder(run);
  if (values.out === undefined) throw new OnnxUsageError('export needs --out MODEL.onnx');
  if (!/\.onnx$/i.test(values.out)) throw new FileError(values.out, 'the model file name must end in .onnx');
  const dir = dirname(values.out);
  let dirIsFolder: boolean | undefined;
  try {
    dirIsFolder = statSync(dir).isDirectory();
  } catch {
    throw new FileError(values.out, `folder ${dir} does not exist`);
  }
  if (!dirIsFolder) throw new FileError(values.out, `${dir} is a file, not a folder`);
  if (values.points !== undefined) checkInput(values.points);
  // The manifest and tokenizer are written beside the model: none of the three may be an input.
  for (const out of [values.out, manifestFileFor(values.out), tokenizerFileFor(values.out)]) checkOutput(out, [run, values.points]);
  let points: PointsConfig | undefined;
  if (values.points !== undefined) {
    const r = resolvePoints(values.points);
    if (!r.ok) throw new OnnxUsageError(formatConfigErrors(r.file, r.errors).join('; '));
    points = r.value;
  }
  return { help: false, run, out: values.out, points, json: values.json };
}

export function exportCommand(argv: string[]): number {
  const args = parseExportArgs(argv);
  if (args.help) {
    console.log(`Usage:\n${EXPORT_USAGE}`);
    return 0;
  }
  const r = exportRun(args.run, args.out, { points: args.points });
  console.log(
    args.json
      ? JSON.stringify(r)
      : printable(
          `${r.model}: ${(r.bytes / 1e6).toFixed(1)} MB, ${r.nodes} nodes, in ${r.seconds.toFixed(2)} s; manifest ${r.manifest}, tokenizer ${r.tokenizer}`,
        ),
  );
  return 0;
}
