import type { Dataset, RecordView } from '../../core/dataset/dataset';
import type { RecordDetail, RecordRow } from '../../../webview/records-protocol';
import { firstUserTurn, formatPreference, formatVerdict, pairVerdicts, snippet } from './format';
import { l10n } from './l10n';

/** View models of records for the record browser and the record JSON document. */

const SNIPPET_CHARS = 160;
const RAW_CHARS = 8 * 1024;

function worst(view: RecordView): RecordRow['severity'] {
  if (view.problems.some((p) => p.severity === 'error')) return 'error';
  return view.problems.length > 0 ? 'warning' : undefined;
}

export function recordRow(view: RecordView): RecordRow {
  const { record } = view;
  if (record === undefined) {
    return {
      index: view.index,
      line: view.line,
      responses: 0,
      preference: '—',
      snippet: view.problems[0]?.reason ?? l10n.t('not a record'),
      problems: view.problems.length,
      severity: worst(view) ?? 'error',
    };
  }
  return {
    index: view.index,
    line: view.line,
    category: record.category,
    responses: record.responses.length,
    preference: formatPreference(record, true),
    snippet: snippet(firstUserTurn(record), SNIPPET_CHARS),
    problems: view.problems.length,
    severity: worst(view),
  };
}

/** Rows `[start, start + count)`, clipped to the dataset. */
export function recordRows(dataset: Dataset, start: number, count: number): RecordRow[] {
  const rows: RecordRow[] = [];
  const end = Math.min(dataset.size, Math.max(0, start) + Math.max(0, count));
  for (let i = Math.max(0, start); i < end; i++) rows.push(recordRow(dataset.read(i)));
  return rows;
}

export function recordDetail(dataset: Dataset, index: number): RecordDetail {
  const view = dataset.read(index);
  const { record } = view;
  const detail: RecordDetail = {
    index,
    line: view.line,
    lines: view.lines,
    context: [],
    responses: [],
    preference: '—',
    verdicts: [],
    problems: view.problems,
  };
  if (record === undefined) {
    const raw = dataset.raw(index);
    detail.raw = raw.length > RAW_CHARS ? `${raw.slice(0, RAW_CHARS)}…` : raw;
    return detail;
  }
  const ranking = record.preference?.ranking;
  detail.id = record.id;
  detail.category = record.category;
  detail.context = record.context;
  detail.responses = record.responses.map((r, i) => ({ index: i, text: r.text, model: r.model, rank: ranking?.[i], ratings: r.ratings ?? [] }));
  detail.preference = formatPreference(record);
  detail.verdicts = pairVerdicts(record.preference?.pairs ?? []).map((v) => {
    const who = v.annotators.length > 0 ? ` — ${v.agreeing}/${v.votes} (${v.annotators.join(', ')})` : '';
    return `${formatVerdict(v)}${who}`;
  });
  detail.metadata = record.metadata;
  return detail;
}
