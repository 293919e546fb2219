// Writes l10n/bundle.l10n.json: the messages of vscode.l10n.t in src/extension (extracted by
// @vscode/l10n-dev, run through npx), then the `l10n.t` calls l10n-dev does not recognise because
// that `l10n` is not imported from 'vscode' or '@vscode/l10n': webview/ (webview/lib/l10n.ts) and the
// formatters of src/extension that do not import vscode (src/extension/presentation/l10n.ts).
// Translate what is new in l10n/bundle.l10n.zh-cn.json; test/unit/l10n fails until every message is.
//
//   node scripts/l10n-export.mjs
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..');
const BUNDLE = join(ROOT, 'l10n', 'bundle.l10n.json');

/** Messages of `l10n.t('…')` calls in the .ts files under `dir`, in order of appearance. */
function messagesUnder(dir) {
  const messages = [];
  for (const file of readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .sort()) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const m of text.matchAll(/\bl10n\.t\(\s*(['"])((?:\\[\s\S]|(?!\1)[^\\])*)\1/g)) {
      messages.push(m[2].replace(/\\(.)/g, (_, c) => ({ n: '\n', t: '\t' })[c] ?? c));
    }
  }
  return messages;
}

execFileSync('npx', ['--yes', '@vscode/l10n-dev', 'export', '-o', 'l10n', 'src/extension'], { cwd: ROOT, stdio: 'inherit' });
const bundle = JSON.parse(readFileSync(BUNDLE, 'utf8'));
for (const m of [...messagesUnder(join(ROOT, 'src', 'extension')), ...messagesUnder(join(ROOT, 'webview'))]) bundle[m] ??= m;
writeFileSync(BUNDLE, `${JSON.stringify(bundle, null, 2)}\n`);
console.log(`${BUNDLE}: ${Object.keys(bundle).length} messages`);
