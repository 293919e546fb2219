import type { ExportFormat } from '../core/curation/export-dataset';
import { EXPORT_FORMATS, exportDataset } from '../core/curation/export-dataset';
import { FilterError, parseFilter, predicateOf, prepareFilter } from '../core/curation/filter';
import type { Clause, RecordPredicate } from '../core/curation/filter';
import { storeFileFor } from '../core/labelling/store';
import { Dataset } from '../core/dataset/dataset';
import { asInputError } from '../core/io/file-error';
import { checkInput } from '../core/io/input-file';
import { COMMON_FLAGS, DATASET_FLAGS, NO_EDITS_FLAG, parseFlags, stringFlags } from './args';
import { UsageError } from './errors';
import { checkOutput } from './files';
import { printable } from './format';

/** `rewardlens export-dataset`: the dataset with its edits journal applied, as a new file (src/core/curation). */

export const EXPORT_DATASET_USAGE = `  rewardlens export-dataset FILE --out OUT [--format same|canonical|trl|dmoerm] [--filter QUERY] [--store DIR] [--no-edits] [--json]
                  the curated dataset (FILE with .rewardlens/FILE.edits.jsonl applied); never over FILE;
                  QUERY: e.g. 'category=roleplay&tag=label-noise&edited=1&len.chosen>500&dup-prompt=0&leak=test.jsonl'
                  or 'label-vs-human=1' (labels of the store in DIR, default .rewardlens/) or 'model-vs-human=SCORES.json' (rewardlens score --json)
                  or 'label-noise=SCORES.json' (both: the disagreement explorer's label-noise candidates)`;

const flags = {
  ...stringFlags('out', 'format', 'filter', 'store'),
  ...NO_EDITS_FLAG,
  ...DATASET_FLAGS,
  ...COMMON_FLAGS,
} as const;

export async function exportDatasetCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, flags);
  if (values.help) {
    console.log(`Usage:\n${EXPORT_DATASET_USAGE}`);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('usage: rewardlens export-dataset FILE --out OUT [--format same|canonical|trl|dmoerm]');
  const [file] = positionals;
  checkInput(file);
  if (values.out === undefined || values.out.trim() === '') throw new UsageError('export-dataset needs --out OUT');
  const format = (values.format ?? 'canonical') as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, not "${values.format}"`);
  if (values.schema !== undefined) checkInput(values.schema);
  let clauses: Clause[] = [];
  try {
    if (values.filter !== undefined) clauses = parseFilter(values.filter);
    // An empty query would export every record, which a --filter never means.
    if (values.filter !== undefined && clauses.length === 0) throw new FilterError(`filter: "${values.filter}" holds no KEY=VALUE clause`);
  } catch (e) {
    if (e instanceof FilterError) throw new UsageError(e.message);
    throw e;
  }
  const leaks = clauses.filter((c) => c.key === 'leak' || c.key === 'model-vs-human' || c.key === 'label-noise').map((c) => c.value);
  for (const leak of leaks) checkInput(leak);
  const labelStore = storeFileFor(file, values.store);
  checkOutput(values.out, [file, values.schema, ...leaks, ...(clauses.some((c) => c.key === 'label-vs-human' || c.key === 'label-noise') ? [labelStore] : [])]);
  const dataset = await Dataset.open(file, { schemaFile: values.schema, adapter: values.adapter }).catch((e: unknown) => {
    throw asInputError(file, e);
  });
  try {
    let keep: RecordPredicate | undefined;
    try {
      keep = clauses.length > 0 ? predicateOf(clauses, await prepareFilter(clauses, dataset, { labelStore })) : undefined;
    } catch (e) {
      if (e instanceof FilterError) throw new UsageError(e.message);
      throw e;
    }
    const r = exportDataset(dataset, values.out, { format, edits: !values['no-edits'], keep });
    const edits = r.edits
      ? `, ${r.edits.applied} edit(s) applied, ${r.dropped} dropped${r.edits.stale.length ? `, ${r.edits.stale.length} stale edit(s) not applied` : ''}`
      : '';
    if (values.json)
      console.log(
        JSON.stringify({
          file,
          out: values.out,
          format,
          ...r,
          edits: r.edits && {
            applied: r.edits.applied,
            stale: r.edits.stale.map((s) => ({ seq: s.edit.seq, kind: s.edit.kind, record: s.edit.record, reason: s.reason })),
            unreadableNote: r.edits.unreadableNote,
          },
        }),
      );
    else {
      for (const s of r.edits?.stale ?? []) console.error(printable(`rewardlens: ${file}: stale edit #${s.edit.seq} (${s.edit.kind}): ${s.reason}`));
      if (r.edits?.unreadableNote) console.error(printable(`rewardlens: warning: ${r.edits.unreadableNote}`));
      console.log(
        printable(
          `${values.out}: ${r.written} line(s) from ${r.records} record(s) (${format})${edits}${r.skipped ? `, ${r.skipped} the format cannot hold` : ''}${r.unreadable ? `, ${r.unreadable} unreadable` : ''}${clauses.length ? `, ${r.filteredOut} left out by the filter` : ''}`,
        ),
      );
    }
  } finally {
    dataset.close();
  }
  return 0;
}
