import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { PreferenceRecord } from '../../../src/core/dataset/record';
import { useBundle } from '../../../src/extension/presentation/l10n';
import { describeRank, lensTitle } from '../../../src/extension/presentation/format';

// Every user-facing string must reach Chinese users translated: these checks fail when a string is
// added (vscode.l10n.t in src/extension, a key in package.nls.json) without its zh-cn entry, or when a
// translation loses a placeholder or a command link. Extraction is by pattern, so l10n.t must be given
// a literal message: the tests also reject a computed one, which no bundle could hold.
const repoRoot = path.resolve(__dirname, '../../../..');
const read = (f: string) => readFileSync(path.join(repoRoot, f), 'utf8');
const json = (f: string) => JSON.parse(read(f)) as Record<string, string>;

function sources(dir: string): string[] {
  return readdirSync(path.join(repoRoot, dir), { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

function unescape(body: string): string {
  return body.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|.)/g, (_, e: string) =>
    e.startsWith('u') && e.length > 1 ? String.fromCodePoint(parseInt(e.replace(/[u{}]/g, ''), 16)) : ({ n: '\n', t: '\t' } as Record<string, string>)[e] ?? e,
  );
}

/** The messages of every `l10n.t(...)` call in `files`, and the calls whose message is not a literal. */
function extractMessages(files: string[]): { messages: Map<string, string>; computed: string[] } {
  const messages = new Map<string, string>();
  const computed: string[] = [];
  const call = /\bl10n\.t\(\s*/g;
  for (const file of files) {
    const text = read(file);
    for (const m of text.matchAll(call)) {
      const at = m.index + m[0].length;
      const literal = /^(['"`])((?:\\[\s\S]|(?!\1)[^\\])*)\1\s*[,)]/.exec(text.slice(at));
      const line = text.slice(0, at).split('\n').length;
      if (!literal || (literal[1] === '`' && literal[2].includes('${'))) computed.push(`${file}:${line}`);
      else if (!messages.has(unescape(literal[2]))) messages.set(unescape(literal[2]), `${file}:${line}`);
    }
  }
  return { messages, computed };
}

const placeholders = (s: string) => [...s.matchAll(/\{(\d+)\}/g)].map((m) => m[1]).sort().join(',');
const commandLinks = (s: string) => [...s.matchAll(/\(command:[^)]+\)/g)].map((m) => m[0]).sort().join(' ');
const hasChinese = (s: string) => /[\u4e00-\u9fff]/.test(s);

void describe('translations', () => {
  const en = json('l10n/bundle.l10n.json');
  const zh = json('l10n/bundle.l10n.zh-cn.json');

  void it('every l10n.t message of src/extension and webview/ is in l10n/bundle.l10n.json, with a literal message', () => {
    const { messages, computed } = extractMessages([...sources('src/extension'), ...sources('webview')]);
    assert.deepEqual(computed, [], 'l10n.t needs a literal message (use {0} placeholders, not ${…})');
    assert.ok(messages.size > 150, `only ${messages.size} messages found: is the extraction broken?`);
    const missing = [...messages].filter(([m]) => !(m in en)).map(([m, where]) => `${where}: ${JSON.stringify(m)}`);
    assert.deepEqual(missing, [], 'run `npx @vscode/l10n-dev export -o l10n src/extension webview`');
    const unused = Object.keys(en).filter((k) => !messages.has(k));
    assert.deepEqual(unused, [], 'bundle entries no code uses (re-export the bundle)');
  });

  void it('l10n/bundle.l10n.zh-cn.json translates every message, keeping its placeholders', () => {
    assert.deepEqual(Object.keys(en).filter((k) => !(k in zh)), [], 'messages without a zh-cn translation');
    assert.deepEqual(Object.keys(zh).filter((k) => !(k in en)), [], 'zh-cn entries of messages that no longer exist');
    for (const [k, v] of Object.entries(zh)) {
      assert.equal(placeholders(v), placeholders(k), `placeholders of ${JSON.stringify(k)}`);
      assert.ok(v.trim() !== '' && (hasChinese(v) || !/[a-z]{4,} [a-z]{4,}/i.test(k)), `${JSON.stringify(k)} is not translated: ${JSON.stringify(v)}`);
    }
  });

  void it('package.nls.zh-cn.json translates every key of package.nls.json, and package.json uses only defined keys', () => {
    const nls = json('package.nls.json');
    const nlsZh = json('package.nls.zh-cn.json');
    assert.deepEqual(Object.keys(nls).filter((k) => !(k in nlsZh)), [], 'keys without a zh-cn translation');
    assert.deepEqual(Object.keys(nlsZh).filter((k) => !(k in nls)), [], 'zh-cn keys package.nls.json lacks');
    const used = [...read('package.json').matchAll(/"%([^%"]+)%"/g)].map((m) => m[1]);
    assert.deepEqual(used.filter((k) => !(k in nls)), [], 'keys package.json uses that package.nls.json lacks');
    assert.deepEqual(Object.keys(nls).filter((k) => !used.includes(k)), [], 'keys no manifest entry uses');
    for (const [k, v] of Object.entries(nlsZh)) {
      assert.equal(commandLinks(v), commandLinks(nls[k]), `command links of ${k}`);
      assert.ok(v.trim() !== '' && (hasChinese(v) || v === nls[k]), `${k} is not translated: ${JSON.stringify(v)}`);
    }
  });

  void it('the CodeLens formatters (no vscode import) speak the bundle handed over at activation', () => {
    const rec: PreferenceRecord = { id: 'x', context: [{ role: 'user', content: 'q' }], responses: [{ text: 'a' }, { text: 'b' }], preference: { ranking: [1, 2] } };
    assert.equal(lensTitle(rec), 'no category · 2 responses · ranking #1 ≻ #2');
    try {
      useBundle(zh);
      assert.equal(lensTitle(rec), '无类别 · 2 个回复 · 排序 #1 ≻ #2');
      assert.equal(describeRank(1, [1, 1, 2]), '最佳（并列）');
    } finally {
      useBundle(undefined);
    }
  });

  void it('the manifest strings are all in package.nls.json (no English left inline)', () => {
    const manifest = JSON.parse(read('package.json')) as { contributes: Record<string, unknown> };
    const inline: string[] = [];
    const walk = (v: unknown, where: string, key: string): void => {
      if (typeof v === 'string') {
        if (['title', 'description', 'markdownDescription', 'name', 'contents', 'altText', 'contextualTitle'].includes(key) && !/^%[^%]+%$/.test(v)) inline.push(where);
      } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${where}[${i}]`, key.endsWith('Descriptions') ? 'description' : key));
      else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`, k);
    };
    walk(manifest.contributes, 'contributes', '');
    assert.deepEqual(inline, []);
  });
});
