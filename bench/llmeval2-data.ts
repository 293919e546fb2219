import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { denseRanks } from '../src/core/dataset/adapters/ranking';
import { canonicalLine } from '../src/core/dataset/canonical-writer';
import type { PreferenceRecord, Rating, Response, Role, Turn } from '../src/core/dataset/record';
import { recordId } from '../src/core/dataset/record-id';
import { humanPairs } from '../src/core/training/pairs';
import { Rng } from '../src/core/training/rng';
import { splitByGroup } from '../src/core/training/split';

/**
 * llmeval2's layout (`human-score/` and `gpt-score/`, one JSON array per subject, rows aligned by
 * `dialog_uuid`) turned into canonical records: one per question with all its responses, the human
 * ranking from total human stars, and every response rated per dimension by both `human` and `gpt-4`.
 * Kept apart from the experiment so its test can check it without the training engine.
 */

/** llmeval2's question types as the paper's (and the default points config's) category names. */
export const CATEGORY_OF_TYPE: Readonly<Record<string, string>> = {
  A: 'objective knowledge QA',
  B: 'subjective knowledge QA',
};

export const HUMAN_SOURCE = 'human';
export const GPT_SOURCE = 'gpt-4';

interface Row {
  question_uuid: string;
  dialog_uuid: string;
  llm_name?: string;
  dialog: Array<{ role: string; content: string }>;
  hint?: string;
  type?: string;
  stars: Record<string, number>;
}

/** What alignment found; every row that did not become a response is counted here, none silently. */
export interface AlignmentReport {
  subjects: string[];
  humanRows: number;
  gptRows: number;
  /** Responses with both human and GPT-4 stars. */
  aligned: number;
  /** Human rows without a GPT-4 row: kept (ranked by the human stars), unjudged by the GPT-4 reference. */
  missingGpt: number;
  /** GPT-4 rows without a human row: left out, since they cannot be ranked. */
  missingHuman: number;
  /** Rows whose dialog_uuid repeats on the same side; the first is used. */
  duplicateRows: number;
  /** Rows left out as unreadable (no final llm turn, non-numeric stars, …), with the first reasons. */
  malformedRows: number;
  malformedExamples: string[];
  /** Rows (either side) whose dialog content was a JSON boolean or number, kept as its text (`true`). */
  nonTextContent: number;
  /** Questions whose type is not A or B (they get no category). */
  unknownType: number;
  /** Some dialog_uuids of each kind of problem, to look them up. */
  examples: { missingGpt: string[]; missingHuman: string[]; duplicate: string[]; nonTextContent: string[] };
}

export interface Llmeval2Data {
  records: PreferenceRecord[];
  /** question_uuid of each record: the unit the split keeps on one side. */
  questions: string[];
  report: AlignmentReport;
}

const EXAMPLES = 5;

function note(list: string[], item: string): void {
  if (list.length < EXAMPLES) list.push(item);
}

/** The subject files of one side, by name; a missing side reads as no files. */
function subjectFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

function readRows(file: string): unknown[] {
  const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  if (!Array.isArray(value)) throw new Error(`${file}: expected a JSON array of rows`);
  return value;
}

const ROLES: Readonly<Record<string, Role>> = { user: 'user', llm: 'assistant', assistant: 'assistant', system: 'system' };

/** The row if it has what a response needs (non-text content made text), else why not. */
function checkRow(v: unknown): { row: Row; coerced: boolean } | string {
  if (typeof v !== 'object' || v === null) return 'not an object';
  const r = v as Record<string, unknown>;
  if (typeof r.question_uuid !== 'string' || typeof r.dialog_uuid !== 'string') return 'no question_uuid or dialog_uuid';
  if (!Array.isArray(r.dialog) || r.dialog.length < 2) return `${r.dialog_uuid}: dialog has no prompt and response`;
  let coerced = false;
  const dialog: Row['dialog'] = [];
  for (const t of r.dialog as unknown[]) {
    const turn = t as Record<string, unknown>;
    if (typeof turn !== 'object' || turn === null || typeof turn.role !== 'string' || !(turn.role in ROLES))
      return `${r.dialog_uuid}: a dialog turn is not {role: user|llm, content}`;
    if (typeof turn.content === 'string') dialog.push({ role: turn.role, content: turn.content });
    else if (typeof turn.content === 'boolean' || typeof turn.content === 'number') {
      // llmeval2 has true/false answers stored as JSON booleans; they are answers all the same.
      dialog.push({ role: turn.role, content: String(turn.content) });
      coerced = true;
    } else return `${r.dialog_uuid}: the content of a dialog turn is not text`;
  }
  if (ROLES[dialog.at(-1)!.role] !== 'assistant') return `${r.dialog_uuid}: the dialog does not end with the llm's turn`;
  if (typeof r.stars !== 'object' || r.stars === null || !Object.values(r.stars).every((s) => typeof s === 'number' && Number.isFinite(s)))
    return `${r.dialog_uuid}: stars are not {dimension: number}`;
  return { row: { ...(v as Row), dialog }, coerced };
}

function ratings(stars: Record<string, number>, source: string): Rating[] {
  return Object.entries(stars).map(([aspect, value]) => ({ aspect, value, source }));
}

function total(stars: Record<string, number>): number {
  return Object.values(stars).reduce((s, x) => s + x, 0);
}

/** Reads one llmeval2-layout folder. Subjects and rows keep the files' order, so equal folders give equal records. */
export function readLlmeval2(dir: string): Llmeval2Data {
  const humanDir = join(dir, 'human-score');
  const gptDir = join(dir, 'gpt-score');
  if (!existsSync(humanDir)) throw new Error(`${dir}: no human-score/ folder (expected llmeval2's layout: human-score/ and gpt-score/)`);
  const report: AlignmentReport = {
    subjects: [],
    humanRows: 0,
    gptRows: 0,
    aligned: 0,
    missingGpt: 0,
    missingHuman: 0,
    duplicateRows: 0,
    malformedRows: 0,
    malformedExamples: [],
    nonTextContent: 0,
    unknownType: 0,
    examples: { missingGpt: [], missingHuman: [], duplicate: [], nonTextContent: [] },
  };
  const usable = (file: string, seen: Map<string, Row>, subject: string): Array<Row & { subject: string }> => {
    const rows: Array<Row & { subject: string }> = [];
    for (const v of readRows(file)) {
      const checked = checkRow(v);
      if (typeof checked === 'string') {
        report.malformedRows++;
        note(report.malformedExamples, `${file}: ${checked}`);
        continue;
      }
      const row = checked.row;
      if (checked.coerced) {
        report.nonTextContent++;
        note(report.examples.nonTextContent, row.dialog_uuid);
      }
      if (seen.has(row.dialog_uuid)) {
        report.duplicateRows++;
        note(report.examples.duplicate, row.dialog_uuid);
        continue;
      }
      seen.set(row.dialog_uuid, row);
      rows.push({ ...row, subject });
    }
    return rows;
  };

  const gpt = new Map<string, Row>();
  for (const f of subjectFiles(gptDir)) report.gptRows += usable(join(gptDir, f), gpt, subjectName(f)).length;
  const human = new Map<string, Row>();
  const humanRows: Array<Row & { subject: string }> = [];
  for (const f of subjectFiles(humanDir)) {
    report.subjects.push(subjectName(f));
    humanRows.push(...usable(join(humanDir, f), human, subjectName(f)));
  }
  report.humanRows = humanRows.length;
  for (const id of gpt.keys()) {
    if (human.has(id)) continue;
    report.missingHuman++;
    note(report.examples.missingHuman, id);
  }

  // Questions in order of first appearance; a question_uuid is unique across subjects in llmeval2, but
  // grouping by it regardless keeps one question in one record whatever the files hold.
  const byQuestion = new Map<string, Array<Row & { subject: string }>>();
  for (const row of humanRows) {
    const list = byQuestion.get(row.question_uuid);
    if (list) list.push(row);
    else byQuestion.set(row.question_uuid, [row]);
  }

  const records: PreferenceRecord[] = [];
  const questions: string[] = [];
  for (const [question, rows] of byQuestion) {
    const first = rows[0];
    // The prompt as the first row has it: copies differ at most by stray whitespace (see grouping.ts).
    const context: Turn[] = first.dialog.slice(0, -1).map((t) => ({ role: ROLES[t.role], content: t.content }));
    const responses: Response[] = rows.map((row) => {
      const g = gpt.get(row.dialog_uuid);
      if (g) report.aligned++;
      else {
        report.missingGpt++;
        note(report.examples.missingGpt, row.dialog_uuid);
      }
      const response: Response = { text: row.dialog.at(-1)!.content };
      if (row.llm_name !== undefined) response.model = row.llm_name;
      response.ratings = [...ratings(row.stars, HUMAN_SOURCE), ...(g ? ratings(g.stars, GPT_SOURCE) : [])];
      return response;
    });
    const category = first.type !== undefined ? CATEGORY_OF_TYPE[first.type] : undefined;
    if (category === undefined) report.unknownType++;
    const record: PreferenceRecord = {
      id: recordId({ context, responses }),
      ...(category !== undefined ? { category } : {}),
      context,
      responses,
      // Total human stars, higher is better; equal totals share a rank, i.e. tie.
      preference: {
        ranking: denseRanks(
          rows.map((r) => total(r.stars)),
          'higher',
        ),
      },
      metadata: {
        question_uuid: question,
        subject: first.subject,
        type: first.type ?? null,
        hint: first.hint ?? null,
        perResponse: { dialog_uuid: rows.map((r) => r.dialog_uuid) },
      },
    };
    records.push(record);
    questions.push(question);
  }
  return { records, questions, report };
}

function subjectName(file: string): string {
  return file.replace(/(_data)?\.json$/, '');
}

export interface Split {
  train: PreferenceRecord[];
  test: PreferenceRecord[];
}

/**
 * Train and test by question_uuid, never by row: a question's responses all go to one side, so the
 * test measures preferences on questions the model has not seen. Deterministic for the data and seed.
 */
export function splitByQuestion(data: Llmeval2Data, seed: number, testFraction = 0.2): Split {
  if (!(testFraction > 0 && testFraction < 1)) throw new Error(`the test fraction must be between 0 and 1 (got ${testFraction})`);
  const positions = data.records.map((_, i) => i);
  const [train, test] = splitByGroup(positions, (p) => data.questions[p], [1 - testFraction, testFraction], new Rng(seed).fork('llmeval2/test'));
  return { train: train.map((p) => data.records[p]), test: test.map((p) => data.records[p]) };
}

/** Canonical JSONL (docs/record-model.md), readable by `Dataset.open` with the canonical adapter. */
export function canonicalJsonl(records: readonly PreferenceRecord[]): string {
  return records.map((r) => canonicalLine(r) + '\n').join('');
}

export function writeCanonicalFile(file: string, records: readonly PreferenceRecord[]): void {
  writeFileSync(file, canonicalJsonl(records));
}

/** Non-tied human pairs and ties of a set of records, counted as training and evaluation count them. */
export function pairCounts(records: readonly PreferenceRecord[]): { pairs: number; ties: number } {
  let pairs = 0;
  let ties = 0;
  records.forEach((r, i) => {
    const h = humanPairs(r, i);
    pairs += h.pairs.length;
    ties += h.ties;
  });
  return { pairs, ties };
}
