import type { IndexReport } from '../core/dataset/dataset';
import type { OverlapReport } from '../core/dataset/overlap';
import { pct } from '../core/training/format';

/** Human-readable renderings of core reports for the terminal. */

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ')).join('\n');
}

export function formatIndexReport(r: IndexReport): string {
  const out: string[] = [];
  out.push(`${r.file}`);
  out.push(`  format ${r.adapter} (${r.format}), ${r.bytes} bytes`);
  out.push(`  ${r.records} records: ${r.usable} usable, ${r.malformed} malformed; ${r.problemCount} problems`);
  out.push(`  responses per record ${r.responsesPerRecord.min}–${r.responsesPerRecord.max} (mean ${r.responsesPerRecord.mean})`);
  out.push(`  ${r.preferencePairs} non-tied human preference pairs (${r.tiedPairs} tied), ${r.unlabelled} records unlabelled`);
  out.push(`  ${r.duplicatePrompts} duplicate prompts, ${r.duplicateRecords} duplicate records`);
  const pii = Object.entries(r.pii).filter(([, n]) => n > 0);
  if (pii.length) out.push(`  PII flags: ${pii.map(([k, n]) => `${k} ${n}`).join(', ')} (first on line ${r.piiLines[0]?.line})`);
  const sources = Object.entries(r.ratingSources);
  if (sources.length) out.push(`  ratings: ${sources.map(([s, n]) => `${s} ${n}`).join(', ')}`);
  const cats = Object.entries(r.categories);
  if (cats.length) {
    out.push('');
    out.push(
      table([
        ['category', 'records', 'avg turns'],
        ...cats.map(([name, c]) => [printable(name, false), String(c.count), c.avgTurns.toFixed(2)]),
        ['total', String(r.usable), r.avgTurns.toFixed(2)],
      ]),
    );
  }
  if (r.problems.length) {
    out.push('');
    for (const p of r.problems.slice(0, 20)) out.push(`${r.file}:${p.line}: ${p.severity}: ${p.reason}`);
    if (r.problemCount > 20) out.push(`… ${r.problemCount - 20} more (use --json)`);
  }
  return out.join('\n');
}

export function formatOverlap(train: string, test: string, r: OverlapReport): string {
  const lines = [`${r.overlapping} of ${r.testRecords} records of ${test} (${pct(r.share)}) share their prompt with ${train} (${r.trainRecords} records)`];
  for (const e of r.examples) lines.push(`  ${test}:${e.testLine} = ${train}:${e.trainLine}`);
  return lines.join('\n');
}

/**
 * `text` safe to print on a terminal: control characters from dataset text or file names (an OSC
 * `\x1b]0;…\x07` retitles the window, `\x1b[2J` clears it) are shown escaped as `\xNN` / `\u{NN}`.
 * C0 (but newline and tab where `keepLines`), DEL and C1 are escaped; the rest passes as it is.
 */
export function printable(text: string, keepLines = true): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    if (keepLines && (c === '\n' || c === '\t')) return c;
    const code = c.charCodeAt(0);
    return code < 0x80 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u{${code.toString(16)}}`;
  });
}
