// In-host tests of the dataset features: CodeLens, hover, diagnostics, overview and record
// browser, and large files indexed from disk.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { activateExtension, openEditor, waitFor, workspaceFile } from './helpers';

const HH = 'hh-rlhf-harmless.sample.jsonl';

const api = activateExtension;

/** Resolved lens titles by 0-based line, once the provider has answered with lenses. */
async function lensTitles(uri: vscode.Uri, resolve = 50): Promise<Map<number, string>> {
  const lenses = await waitFor(async () => {
    const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, resolve);
    return found.length > 0 && found.some((l) => l.command?.title) ? found : undefined;
  }, `CodeLenses for ${uri.path}`);
  return new Map(lenses.filter((l) => l.command?.title).map((l) => [l.range.start.line, l.command!.title]));
}

function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n');
}

/** Markdown escapes removed, for comparing hover text. */
function plain(markdown: string): string {
  return markdown.replace(/\\([\\`*_{}[\]()#+\-.!|<>~&])/g, '$1');
}

function webviewTab(viewType: string): vscode.Tab | undefined {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(viewType));
}

function diagnosticsOf(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'RewardLens');
}

suite('RewardLens dataset features', () => {
  const sampleLines = readFileSync(workspaceFile(HH).fsPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const cleanup: string[] = [];

  suiteSetup(async () => {
    await api();
  });

  teardown(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  suiteTeardown(() => {
    for (const path of cleanup) rmSync(path, { recursive: true, force: true });
  });

  test('jsonl documents get the built-in jsonl language', async () => {
    const editor = await openEditor(HH);
    assert.equal(editor.document.languageId, 'jsonl');
  });

  test('CodeLens shows category, response count and the human ranking', async () => {
    const editor = await openEditor(HH);
    const titles = await lensTitles(editor.document.uri, 100);
    assert.equal(titles.get(0), 'no category · 2 responses · ranking #1 ≻ #2');
    // Line 87's chosen transcript ends with an empty Assistant turn: the lens flags the problem.
    assert.match(titles.get(86) ?? '', /\$\((warning|error)\)/);
    // Without a resolve count the provider's lenses come back unresolved: one per record.
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri);
    assert.equal(lenses.length, sampleLines.length, 'one lens per record');
    assert.equal(lenses[10].range.start.line, 10);
    const first = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri, 1))[0];
    assert.equal(first.command?.command, 'rewardlens.openRecord');
    assert.deepEqual(first.command?.arguments, [editor.document.uri.toString(), 0]);
  });

  test('CodeLens shows pairwise annotators as a majority verdict, and n-way rankings', async () => {
    const panda = await lensTitles((await openEditor('pandalm.sample.jsonl')).document.uri, 5);
    assert.equal(panda.get(0), 'Grammarly · 2 responses · majority #2 ≻ #1 (3/3 annotators)');
    const qa = await lensTitles((await openEditor('finegrained-qa.sample.jsonl')).document.uri, 5);
    assert.equal(qa.get(0), 'no category · 4 responses · ranking #4 ≻ #2 ≻ #1 ≻ #3');
  });

  test('CodeLens shows ties', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rewardlens-ties-'));
    cleanup.push(dir);
    const file = join(dir, 'ties.jsonl');
    const rows = [
      { instruction: 'Say hi', category: 'greeting', 'response 1': 'hi', 'response 2': 'hello', label: 2 },
      { instruction: 'Say bye', category: 'greeting', 'response 1': 'bye', 'response 2': 'ciao', label: 0 },
    ];
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    await vscode.window.showTextDocument(doc);
    const titles = await lensTitles(doc.uri, 5);
    assert.equal(titles.get(0), 'greeting · 2 responses · ranking #1 = #2');
    assert.equal(titles.get(1), 'greeting · 2 responses · ranking #1 ≻ #2');
  });

  test('Open Dataset indexes a JSON array file in its editor', async () => {
    const uri = workspaceFile('llamafactory-dpo-zh.sample.json');
    const summary = await vscode.commands.executeCommand<{ origin: string; size: number; malformed: number }>('rewardlens.openDataset', uri);
    assert.equal(summary.origin, 'document');
    assert.ok(summary.size > 0);
    assert.equal(vscode.window.activeTextEditor?.document.uri.toString(), uri.toString());
    const titles = await lensTitles(uri, 2);
    // The first array element starts on line 2 (0-based 1), after the opening bracket.
    assert.equal(titles.get(1), 'no category · 2 responses · ranking #1 ≻ #2');
  });

  test('rewardlens.codeLens.enabled turns the lenses off and on', async () => {
    const editor = await openEditor(HH);
    await lensTitles(editor.document.uri, 1);
    const config = vscode.workspace.getConfiguration('rewardlens');
    try {
      await config.update('codeLens.enabled', false, vscode.ConfigurationTarget.Global);
      await waitFor(
        async () => (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', editor.document.uri)).length === 0,
        'the lenses to go',
      );
    } finally {
      await config.update('codeLens.enabled', undefined, vscode.ConfigurationTarget.Global);
    }
    await lensTitles(editor.document.uri, 1);
  });

  test('hover names the response under the cursor with its rank', async () => {
    const editor = await openEditor(HH);
    const line = editor.document.lineAt(0).text;
    const inRejected = new vscode.Position(0, line.indexOf('"rejected"') + '"rejected": "'.length + 5);
    const hovers = await waitFor(async () => {
      const found = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, inRejected);
      return found.length > 0 ? found : undefined;
    }, 'a hover');
    const text = plain(hoverText(hovers));
    assert.match(text, /record 1 · line 1/);
    assert.match(text, /ranking #1 ≻ #2/);
    assert.match(text, /\*\*Response 2\*\* · human rank 2 — worst · \*\(under the cursor\)\*/);
    const inChosen = new vscode.Position(0, line.indexOf('"chosen"') + '"chosen": "'.length + 5);
    const chosen = plain(hoverText(await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', editor.document.uri, inChosen)));
    assert.match(chosen, /\*\*Response 1\*\* · human rank 1 — best · \*\(under the cursor\)\*/);
  });

  test('diagnostics flag malformed records at their lines and follow edits', async () => {
    const truncated = sampleLines[1].slice(0, 120);
    const notText = JSON.stringify({ chosen: true, rejected: (JSON.parse(sampleLines[2]) as { rejected: string }).rejected });
    const lines = [sampleLines[0], sampleLines[3], sampleLines[4], sampleLines[5], truncated, sampleLines[6], notText, sampleLines[0]];
    const dir = mkdtempSync(join(tmpdir(), 'rewardlens-malformed-'));
    cleanup.push(dir);
    const uri = vscode.Uri.file(join(dir, 'malformed.jsonl'));
    writeFileSync(uri.fsPath, lines.join('\n') + '\n');
    const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const diagnostics = await waitFor(() => (diagnosticsOf(uri).length >= 3 ? diagnosticsOf(uri) : undefined), 'diagnostics');
    const at = (line: number) => diagnostics.filter((d) => d.range.start.line === line);
    assert.equal(at(4).length, 1);
    assert.equal(at(4)[0].severity, vscode.DiagnosticSeverity.Error);
    assert.match(at(4)[0].message, /invalid JSON.*truncated record/);
    assert.equal(at(6)[0]?.severity, vscode.DiagnosticSeverity.Error);
    assert.match(at(6)[0].message, /"chosen" is .*boolean|boolean/);
    assert.equal(at(7)[0]?.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(at(7)[0].message, /duplicate of the record on line 1/);
    assert.equal(at(0).length, 0);

    // Repair the truncated line: the re-index after the edit drops its diagnostic.
    await editor.edit((e) => e.replace(editor.document.lineAt(4).range, sampleLines[1]));
    await waitFor(() => diagnosticsOf(uri).every((d) => d.range.start.line !== 4), 'the repaired line to lose its diagnostic');
    assert.equal(diagnosticsOf(uri).filter((d) => d.range.start.line === 6).length, 1);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('Show Dataset Overview opens the overview webview', async () => {
    const editor = await openEditor(HH);
    await lensTitles(editor.document.uri, 1);
    const summary = await vscode.commands.executeCommand<{ records: number; malformed: number; size: number }>('rewardlens.showOverview');
    const report = (await api()).report(editor.document.uri);
    assert.equal(report?.adapter, 'hh-rlhf');
    assert.equal(summary.size, sampleLines.length);
    assert.equal(summary.records, report.records);
    assert.equal(summary.malformed, report.malformed);
    const tab = await waitFor(() => webviewTab('rewardlens.overview'), 'the overview tab');
    assert.equal(tab.label, `Overview: ${HH}`);
  });

  test('Browse Records opens the record browser at a record', async () => {
    const editor = await openEditor(HH);
    await vscode.commands.executeCommand('rewardlens.browseRecords', editor.document.uri.toString(), 86);
    const tab = await waitFor(() => webviewTab('rewardlens.records'), 'the record browser tab');
    assert.equal(tab.label, `Records: ${HH}`);
    const rows = (await api()).rows(editor.document.uri, 85, 3);
    assert.deepEqual(
      rows?.map((r) => [r.index, r.line, r.severity !== undefined]),
      [
        [85, 86, false],
        [86, 87, true],
        [87, 88, false],
      ],
    );
    assert.equal(rows[0].preference, '#1 ≻ #2');
  });

  test('a record opens as a read-only JSON document', async () => {
    const editor = await openEditor(HH);
    await lensTitles(editor.document.uri, 1);
    const uri = await vscode.commands.executeCommand<string>('rewardlens.showRecordJson', editor.document.uri.toString(), 0);
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri);
    assert.ok(doc, 'the record document is open');
    const shown = JSON.parse(doc.getText()) as { record: number; line: number; canonical: { responses: unknown[]; preference: unknown } };
    assert.equal(shown.record, 1);
    assert.equal(shown.canonical.responses.length, 2);
    assert.deepEqual(shown.canonical.preference, { ranking: [1, 2] });
  });

  test('files over 50 MB are indexed from disk and browsable to the last record', async function () {
    this.timeout(120_000);
    const sampleDoc = (await openEditor(HH)).document;
    await lensTitles(sampleDoc.uri, 1);
    const sampleMalformed = (await api()).report(sampleDoc.uri)!.malformed;
    const dir = mkdtempSync(join(tmpdir(), 'rewardlens-big-'));
    cleanup.push(dir);
    const file = join(dir, 'big.jsonl');
    const chunk = Buffer.from(sampleLines.join('\n') + '\n', 'utf8');
    const repeats = Math.ceil((52 * 1024 * 1024) / chunk.length);
    const fd = openSync(file, 'w');
    for (let i = 0; i < repeats; i++) writeSync(fd, chunk);
    const xss = {
      chosen: '\n\nHuman: <script>alert(1)</script>\n\nAssistant: <img src=x onerror=alert(2)>',
      rejected: '\n\nHuman: <script>alert(1)</script>\n\nAssistant: no',
    };
    writeSync(fd, JSON.stringify(xss) + '\n');
    closeSync(fd);
    const uri = vscode.Uri.file(file);

    const summary = await vscode.commands.executeCommand<{ origin: string; size: number; records: number; malformed: number }>('rewardlens.openDataset', uri);
    assert.ok(summary, 'openDataset returned a summary');
    assert.equal(summary.origin, 'file');
    assert.equal(summary.size, repeats * sampleLines.length + 1);
    assert.equal(summary.malformed, repeats * sampleMalformed);
    await waitFor(() => webviewTab('rewardlens.overview'), 'the overview of the big file');

    await vscode.commands.executeCommand('rewardlens.browseRecords', uri.toString(), summary.size - 1);
    await waitFor(() => webviewTab('rewardlens.records'), 'the record browser');
    const lens = await api();
    const last = lens.rows(uri, summary.size - 2, 10);
    assert.equal(last?.length, 2);
    assert.equal(last[1].snippet, '<script>alert(1)</script>');
    const detail = lens.detail(uri, summary.size - 1);
    assert.equal(detail?.responses[0].text, '<img src=x onerror=alert(2)>');
    assert.equal(detail?.line, summary.size);
  });
});
