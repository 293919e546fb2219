import type { Preference, PreferenceRecord } from '../dataset/record';
import type { JournalContents, RecordEdit } from './journal';
import { contentHash, editsByRecord, journalFileFor, readJournal } from './journal';

/**
 * Applying the edits journal to records as they are read. A record's edits apply only when its raw
 * text still has the hash the edit was made on; otherwise they are stale: reported, never applied to
 * a record that may no longer be the one the user saw.
 */

export interface StaleEdit {
  edit: RecordEdit;
  reason: string;
}

/** Where the curated record notes its tags and notes (kept out of the dataset's own metadata keys). */
export const CURATION_METADATA_KEY = 'rewardlens';

export interface CurationMetadata {
  tags?: string[];
  notes?: string[];
  edits: string[];
}

/** Ranks 1 best; a record with pairwise labels only gets its ranking derived where it can. */
function rankingOf(p: Preference | undefined, n: number): number[] | undefined {
  if (p?.ranking && p.ranking.length === n) return p.ranking.slice();
  return undefined;
}

/** The best and worst responses by the human ranking: what "flip" swaps when no pair is given. */
function bestAndWorst(ranking: number[]): [number, number] {
  let best = 0;
  let worst = 0;
  for (let i = 1; i < ranking.length; i++) {
    if (ranking[i] < ranking[best]) best = i;
    if (ranking[i] > ranking[worst]) worst = i;
  }
  return [best, worst];
}

/** Why `ranking` is not a ranking of `n` responses (one whole rank ≥ 1, 1 best, per response), or undefined. */
export function rankingProblem(ranking: readonly number[], n: number): string | undefined {
  if (ranking.length !== n || ranking.some((r) => !Number.isInteger(r) || r < 1))
    return `the new ranking needs one rank (1 best) for each of the ${n} responses`;
  return undefined;
}

/** `"2, 1, 3"` (or `2 1 3`) as a ranking of `n` responses; a string says what is wrong with it. */
export function parseRanking(text: string, n: number): number[] | string {
  const parts = text
    .trim()
    .split(/[\s,]+/)
    .filter(Boolean);
  const ranking = parts.map(Number);
  return rankingProblem(ranking, n) ?? ranking;
}

/** The record with one edit applied; undefined when dropped; a string says why it cannot apply. */
export function applyEdit(record: PreferenceRecord, edit: RecordEdit): PreferenceRecord | undefined | string {
  const n = record.responses.length;
  const out: PreferenceRecord = { ...record, preference: record.preference ? { ...record.preference } : undefined };
  const inRange = (i: number | undefined): boolean => i === undefined || (Number.isInteger(i) && i >= 0 && i < n);
  if (!inRange(edit.a) || !inRange(edit.b)) return `response ${(edit.a ?? 0) + 1} or ${(edit.b ?? 0) + 1} is not one of the record's ${n}`;
  switch (edit.kind) {
    case 'drop':
      return undefined;
    case 'flip': {
      const ranking = rankingOf(record.preference, n);
      const pairs = record.preference?.pairs;
      if (ranking) {
        const [a, b] = edit.a !== undefined && edit.b !== undefined ? [edit.a, edit.b] : bestAndWorst(ranking);
        if (ranking[a] === ranking[b]) return `responses ${a + 1} and ${b + 1} are tied: nothing to flip`;
        [ranking[a], ranking[b]] = [ranking[b], ranking[a]];
        out.preference = { ...out.preference, ranking };
        if (pairs) out.preference.pairs = pairs.map((p) => flipPair(p, a, b));
        return out;
      }
      if (pairs && pairs.length > 0) {
        const a = edit.a ?? pairs[0].a;
        const b = edit.b ?? pairs[0].b;
        out.preference = { ...out.preference, pairs: pairs.map((p) => flipPair(p, a, b)) };
        return out;
      }
      return 'the record has no human preference to flip';
    }
    case 'tie': {
      const ranking = rankingOf(record.preference, n) ?? new Array<number>(n).fill(1);
      if (edit.a !== undefined && edit.b !== undefined) {
        const r = Math.min(ranking[edit.a], ranking[edit.b]);
        ranking[edit.a] = r;
        ranking[edit.b] = r;
      } else ranking.fill(1);
      const pairs = record.preference?.pairs?.map((p) => (edit.a === undefined || samePair(p, edit.a, edit.b ?? -1) ? { ...p, winner: null } : p));
      out.preference = { ranking, ...(pairs ? { pairs } : {}) };
      return out;
    }
    case 'rerank': {
      const ranking = edit.ranking ?? [];
      const problem = rankingProblem(ranking, n);
      if (problem !== undefined) return problem;
      out.preference = { ranking: ranking.slice() };
      return out;
    }
    case 'tag':
    case 'note': {
      const meta = { ...(record.metadata ?? {}) };
      const cur = { ...((meta[CURATION_METADATA_KEY] as CurationMetadata | undefined) ?? { edits: [] }) };
      if (edit.kind === 'tag' && edit.tag) cur.tags = [...new Set([...(cur.tags ?? []), edit.tag])];
      if (edit.kind === 'note' && edit.note) cur.notes = [...(cur.notes ?? []), edit.note];
      meta[CURATION_METADATA_KEY] = cur;
      out.metadata = meta;
      return out;
    }
  }
}

function samePair(p: { a: number; b: number }, a: number, b: number): boolean {
  return (p.a === a && p.b === b) || (p.a === b && p.b === a);
}

function flipPair<P extends { a: number; b: number; winner: number | null }>(p: P, a: number, b: number): P {
  if (!samePair(p, a, b) || p.winner === null) return p;
  return { ...p, winner: p.winner === p.a ? p.b : p.a };
}

/** Edits applied to one record: the curated record (undefined when dropped) and what was stale. */
export interface AppliedRecord {
  record: PreferenceRecord | undefined;
  edits: RecordEdit[];
  stale: StaleEdit[];
}

/** Applies a journal to the records of one file, one at a time, and remembers what was stale. */
export class EditApplier {
  private readonly byRecord: Map<string, RecordEdit[]>;
  private readonly seen = new Set<string>();
  readonly stale: StaleEdit[] = [];
  applied = 0;
  dropped = 0;

  constructor(readonly journal: JournalContents) {
    this.byRecord = editsByRecord(journal);
  }

  static forDataset(datasetFile: string): EditApplier {
    return new EditApplier(readJournal(journalFileFor(datasetFile)));
  }

  get empty(): boolean {
    return this.journal.active.length === 0;
  }

  /** The journal's lines that could not be read: said wherever it is applied, since an edit lost in silence is curation lost. */
  get unreadableNote(): string | undefined {
    const n = this.journal.ignoredLines;
    return n > 0 ? `${this.journal.file}: ${n} unreadable line${n === 1 ? '' : 's'} ignored (torn by a crash, or not a journal line)` : undefined;
  }

  /** `raw`: the record's raw text (Dataset.raw), whose hash the edits were made on. */
  apply(record: PreferenceRecord, raw: string): AppliedRecord {
    const edits = this.byRecord.get(record.id);
    if (!edits) return { record, edits: [], stale: [] };
    this.seen.add(record.id);
    const hash = contentHash(raw);
    let current: PreferenceRecord | undefined = record;
    const stale: StaleEdit[] = [];
    const applied: RecordEdit[] = [];
    for (const edit of edits) {
      if (edit.hash !== hash) {
        stale.push({ edit, reason: `record ${record.id} (line ${edit.line} when edited) has changed since the edit: not applied` });
        continue;
      }
      if (current === undefined) break;
      const next = applyEdit(current, edit);
      if (typeof next === 'string') {
        stale.push({ edit, reason: `line ${edit.line}: ${next}` });
        continue;
      }
      current = next;
      applied.push(edit);
      this.applied++;
    }
    if (current === undefined) this.dropped++;
    else if (applied.length > 0) {
      const meta = { ...(current.metadata ?? {}) };
      const cur = { ...((meta[CURATION_METADATA_KEY] as CurationMetadata | undefined) ?? { edits: [] }) };
      cur.edits = applied.map((e) => e.kind);
      meta[CURATION_METADATA_KEY] = cur;
      current = { ...current, metadata: meta };
    }
    this.stale.push(...stale);
    return { record: current, edits: applied, stale };
  }

  /** Call after the last record: edits whose record was never seen are stale too (record gone). */
  finish(): StaleEdit[] {
    for (const [id, edits] of this.byRecord) {
      if (this.seen.has(id)) continue;
      for (const edit of edits) this.stale.push({ edit, reason: `record ${id} (line ${edit.line} when edited) is no longer in the file: not applied` });
    }
    return this.stale;
  }
}
