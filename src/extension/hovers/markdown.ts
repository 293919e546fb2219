/** Markdown helpers for hovers; pure (no `vscode`), so the escaping is unit-tested. */

/** Markdown-escapes untrusted text for inline use (table cells included). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~&]/g, '\\$&').replace(/\r?\n/g, ' ');
}
