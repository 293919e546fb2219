/**
 * Markdown from untrusted text (dataset fields, model names, file names), for the editor's hovers and the
 * run folder's MODEL_CARD.md alike. Whatever the text holds, it stays text: no HTML (`<img src=…>` would
 * be a remote beacon in a preview), no image or link, no line break that starts a new block.
 */

/** CommonMark's line endings: a lone CR ends a line too. */
const LINE_BREAK = /\r\n|\r|\n/g;

/** Escapes text for inline use (table cells included). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, '\\$&').replace(LINE_BREAK, ' ');
}

/**
 * Text as an inline code span: backslashes do not escape inside one, so the span is delimited by a run of
 * backticks longer than any inside (CommonMark), and line breaks become spaces (a blank line would end it).
 */
export function inlineCode(text: string): string {
  const flat = text.replace(LINE_BREAK, ' ');
  const fence = '`'.repeat(longestRun(flat, '`') + 1);
  const pad = flat.startsWith('`') || flat.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${flat}${pad}${fence}`;
}

/** A fenced code block around `text` whose fence no line of the text can close. */
export function codeBlock(text: string): string {
  const fence = '`'.repeat(Math.max(3, longestRun(text, '`') + 1));
  return `${fence}\n${text}\n${fence}`;
}

function longestRun(text: string, ch: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === ch ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}
