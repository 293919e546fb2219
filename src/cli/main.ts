#!/usr/bin/env node
import { writeCanonical } from '../core/dataset/canonical-writer';
import type { IndexOptions, IndexReport } from '../core/dataset/dataset';
import { Dataset, indexOffsets } from '../core/dataset/dataset';
import { promptOverlap } from '../core/dataset/overlap';
import { checkInput } from '../core/io/input-file';
import { asInputError } from '../core/io/file-error';
import { version } from '../../package.json';
import { COMMON_FLAGS, INDEX_FLAGS, indexOptionsOf, parseFlags } from './args';
import { UsageError, errorReport } from './errors';
import { formatIndexReport, formatOverlap, printable } from './format';
import { checkOutput } from './files';
import { LABEL_USAGE, labelCommand, labelsFromRatingsCommand } from './label';
import { EXPORT_USAGE, exportCommand } from './export';
import { scoreCommand } from './score';
import { SERVE_USAGE, serveCommand } from './serve';
import { EXPORT_DATASET_USAGE, exportDatasetCommand } from './export-dataset';
import { TRAIN_USAGE, doctorCommand, evalCommand, prepareCommand, trainCommand } from './train';

/**
 * The help: every command's usage lines first, then each command group's option section. Each *_USAGE
 * is `usage lines`, a blank line, `options`; pasted whole one after the other they interleaved usage lines
 * with option sections.
 */
export function composeHelp(intro: string, ownUsage: string, blocks: readonly string[], ownOptions: string, outro: string): string {
  const split = blocks.map((b) => {
    const at = b.indexOf('\n\n');
    return at < 0 ? { usage: b, options: '' } : { usage: b.slice(0, at), options: b.slice(at + 2) };
  });
  const sections = [ownOptions, ...split.map((b) => b.options).filter((o) => o !== '')];
  return [intro, `Usage:\n${[ownUsage, ...split.map((b) => b.usage)].join('\n')}`, ...sections, outro].join('\n\n');
}

const DATASET_USAGE = `  rewardlens index FILE [--schema MAP.jsonc] [--json] [--offsets-only]
  rewardlens convert FILE [--schema MAP.jsonc] --out OUT.jsonl
  rewardlens overlap TRAIN TEST [--schema MAP.jsonc] [--json]`;

const DATASET_OPTIONS = `Options:
  --schema FILE        field-mapping file for shapes that are not detected (docs/mapping-file.md)
  --adapter NAME       use this built-in adapter instead of detecting one
  --rank-direction D   how to read explicit ranks: lower-is-better (default) or higher-is-better
  --workers N          scan threads for large JSONL files, 1 to 64 (default: one per core)
  --json               print one JSON object instead of text
  --offsets-only       index: build only the offset index and print {records}
  --out FILE           convert: where to write canonical JSONL
  -h, --help           this help (COMMAND --help: that command's)
  --version            the version of rewardlens`;

const USAGE = composeHelp(
  'rewardlens — preference datasets and DMoERM reward models from the terminal',
  DATASET_USAGE,
  [LABEL_USAGE, TRAIN_USAGE, EXPORT_USAGE, EXPORT_DATASET_USAGE, SERVE_USAGE],
  DATASET_OPTIONS,
  'Exit codes: 0 success; 2 bad input or flags (one line: rewardlens: <file>: <reason>); 1 an internal error.',
);

const indexFlags = {
  ...INDEX_FLAGS,
  'offsets-only': { type: 'boolean', default: false },
  out: { type: 'string' },
  ...COMMON_FLAGS,
} as const;

export async function main(argv: string[]): Promise<number> {
  if (argv[0] === '--version') {
    console.log(version);
    return 0;
  }
  // Labelling commands have their own options (src/cli/label.ts).
  if (argv[0] === 'label') return labelCommand(argv.slice(1));
  if (argv[0] === 'labels-from-ratings') return labelsFromRatingsCommand(argv.slice(1));
  // So do training and evaluation (src/cli/train.ts).
  if (argv[0] === 'train') return trainCommand(argv.slice(1));
  if (argv[0] === 'eval') return evalCommand(argv.slice(1));
  if (argv[0] === 'prepare') return prepareCommand(argv.slice(1));
  if (argv[0] === 'doctor') return doctorCommand(argv.slice(1));
  // And ONNX export and scoring (src/cli/export.ts, src/cli/score.ts).
  if (argv[0] === 'export') return exportCommand(argv.slice(1));
  if (argv[0] === 'score') return scoreCommand(argv.slice(1));
  // The reward server (src/cli/serve.ts).
  if (argv[0] === 'serve') return serveCommand(argv.slice(1));
  if (argv[0] === 'export-dataset') return exportDatasetCommand(argv.slice(1));
  const { values, positionals } = parseFlags(argv, indexFlags);
  const [command, ...files] = positionals;
  if (values.help || command === undefined) {
    // `index --help`: that command's usage line and the options, as the other commands' --help.
    const own = DATASET_USAGE.split('\n').filter((l) => l.trim().startsWith(`rewardlens ${command} `));
    console.log(own.length > 0 ? `Usage:\n${own.join('\n')}\n\n${DATASET_OPTIONS}` : USAGE);
    return values.help ? 0 : 2;
  }
  const indexOptions = indexOptionsOf(values);
  if (values.schema !== undefined) checkInput(values.schema);
  const print = (json: unknown, text: string): void => console.log(values.json ? JSON.stringify(json) : printable(text));

  switch (command) {
    case 'index': {
      const file = exactlyOne(files, 'index FILE');
      if (values['offsets-only']) {
        checkInput(file);
        const index = indexOffsets(file);
        print({ file, format: index.format, records: index.starts.length }, `${file}: ${index.starts.length} records (${index.format})`);
        return 0;
      }
      const dataset = await open(file, indexOptions);
      try {
        print(indexJson(dataset.report), formatIndexReport(dataset.report));
      } finally {
        dataset.close();
      }
      return 0;
    }
    case 'convert': {
      const file = exactlyOne(files, 'convert FILE --out OUT.jsonl');
      if (values.out === undefined || values.out.trim() === '') throw new UsageError('convert needs --out OUT.jsonl');
      checkInput(file);
      checkOutput(values.out, [file, values.schema]);
      const dataset = await open(file, indexOptions);
      try {
        const result = writeCanonical(dataset, values.out);
        print(
          { file, out: values.out, format: dataset.report.adapter, ...result },
          `${values.out}: ${result.written} records written, ${result.skipped} unusable left out (see \`rewardlens index ${file}\`)`,
        );
      } finally {
        dataset.close();
      }
      return 0;
    }
    case 'overlap': {
      if (files.length !== 2) throw new UsageError('usage: rewardlens overlap TRAIN TEST');
      const [train, test] = await Promise.all(files.map((f) => open(f, indexOptions)));
      try {
        const report = promptOverlap(train, test);
        print({ train: files[0], test: files[1], ...report }, formatOverlap(files[0], files[1], report));
      } finally {
        train.close();
        test.close();
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}" (try --help)`);
  }
}

function exactlyOne(files: string[], usage: string): string {
  if (files.length !== 1) throw new UsageError(`usage: rewardlens ${usage}`);
  return files[0];
}

async function open(file: string, options: IndexOptions): Promise<Dataset> {
  checkInput(file);
  try {
    return await Dataset.open(file, options);
  } catch (e) {
    throw asInputError(file, e);
  }
}

/** The `index --json` contract: stable keys that scripts rely on, first 100 problems. */
function indexJson(report: IndexReport): Record<string, unknown> {
  return {
    file: report.file,
    format: report.adapter,
    fileFormat: report.format,
    bytes: report.bytes,
    entries: report.entries,
    records: report.records,
    usable: report.usable,
    malformed: report.malformed,
    problems: report.problems.slice(0, 100).map(({ line, reason, severity }) => ({ line, reason, severity })),
    problemCount: report.problemCount,
    categories: Object.fromEntries(Object.entries(report.categories).map(([k, v]) => [k, v.count])),
    categoryTurns: Object.fromEntries(Object.entries(report.categories).map(([k, v]) => [k, v.avgTurns])),
    avgTurns: report.avgTurns,
    responsesPerRecord: report.responsesPerRecord,
    preferencePairs: report.preferencePairs,
    tiedPairs: report.tiedPairs,
    unlabelled: report.unlabelled,
    duplicatePrompts: report.duplicatePrompts,
    duplicateRecords: report.duplicateRecords,
    ratingSources: report.ratingSources,
    pii: report.pii,
    piiLines: report.piiLines.slice(0, 100),
  };
}

/** process.exit drops what a pipe has not taken yet (`score --json | jq` got the first 64 KiB): exit once stdout has drained. */
function exitAfterOutput(code: number): void {
  process.stdout.write('', () => process.exit(code));
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => exitAfterOutput(code),
    (e: unknown) => {
      const { line, code } = errorReport(e);
      console.error(line);
      if (code === 1 && e instanceof Error && process.env.REWARDLENS_DEBUG) console.error(e.stack);
      process.exit(code);
    },
  );
}
