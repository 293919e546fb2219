// In-host tests of capability-point labelling in VS Code: the label command against the fake
// OpenAI-compatible judge (loopback), resume, the report panel, config diagnostics, the key kept out
// of the store and the log, labels from ratings, and the workspace-trust guard.
import * as assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { writeCanonical } from '../../../src/core/dataset/canonical-writer';
import { Dataset } from '../../../src/core/dataset/dataset';
import { buildReport } from '../../../src/core/labelling/report';
import { readStore, storeFileFor } from '../../../src/core/labelling/store';
import type { LabelCommandResult } from '../../../src/extension/labelling/label-command';
import type { RatingsCommandResult } from '../../../src/extension/labelling/ratings-command';
import { labellingBlockedReason } from '../../../src/extension/labelling/trust';
import type { TestingApi } from '../../../src/extension/main';
import { FakeJudgeServer } from '../../support/fake-judge-server';
import { EXTENSION_ID, testingApi, waitFor, workspaceFile } from './helpers';

const HH = 'hh-rlhf-harmless.sample.jsonl';
const PANDALM = 'pandalm.sample.jsonl';
const LABEL = 'rewardlens.labelCapabilities';

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true })
    .map((f) => join(dir, String(f)))
    .filter((f) => statSync(f).isFile());
}

function webviewTab(viewType: string): vscode.Tab | undefined {
  return vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview && t.input.viewType.endsWith(viewType));
}

suite('RewardLens labelling', () => {
  const key = `sk-test-${randomBytes(12).toString('hex')}`;
  const storeDir = mkdtempSync(join(tmpdir(), 'rl-it-labels-'));
  const settings = vscode.workspace.getConfiguration('rewardlens');
  const set = (name: string, value: unknown) => settings.update(name, value, vscode.ConfigurationTarget.Global);
  const touched = [
    'judge.provider',
    'judge.baseUrl',
    'judge.model',
    'labelling.storeDir',
    'labelling.concurrency',
    'labelling.pointsConfig',
    'labelling.pricePer1kTokens',
  ];
  let judge: FakeJudgeServer;
  let testing: TestingApi;

  suiteSetup(async () => {
    testing = await testingApi();
    judge = await FakeJudgeServer.start({ biasShare: 0.2, invalidShare: 0.1 });
    // Machine-scoped settings can be set in user (global) settings only: as the user would.
    await set('judge.provider', 'openai-compatible');
    await set('judge.baseUrl', judge.url);
    await set('judge.model', 'fake-judge');
    await set('labelling.storeDir', storeDir);
    await set('labelling.concurrency', 4);
    await set('labelling.pricePer1kTokens', 0.002);
    await testing.setJudgeApiKey(key);
  });

  teardown(() => vscode.commands.executeCommand('workbench.action.closeAllEditors'));

  suiteTeardown(async () => {
    for (const name of touched) await set(name, undefined);
    await vscode.commands.executeCommand('rewardlens.clearJudgeApiKey');
    await judge?.close();
    rmSync(storeDir, { recursive: true, force: true });
  });

  test('labels the first records through the command, storing every call, and resumes without new calls', async () => {
    const uri = workspaceFile(HH);
    const result = await vscode.commands.executeCommand<LabelCommandResult>(LABEL, uri.toString(), { confirm: false, limitRecords: 3 });
    assert.ok(result.outcome === 'ran', `not run: ${JSON.stringify(result)}`);
    assert.equal(result.status, 'completed');
    // HH-RLHF records have no category: the "overall" points (5), 1 pair, 2 orders.
    assert.equal(result.plannedCalls, 3 * 5 * 2);
    assert.equal(result.calls, 30);
    assert.equal(result.remaining, 0);
    assert.equal(result.consistent + result.inconsistent + result.invalid, 15, 'every pair and point merged');
    assert.ok(result.inconsistent > 0 || result.invalid > 0, 'the fake judge is biased on some pairs');
    assert.equal(judge.answered().length, 30);
    assert.ok(
      judge.requests.every((r) => r.authorization === `Bearer ${key}` && r.model === 'fake-judge'),
      'the key from SecretStorage is sent',
    );

    const storeFile = storeFileFor(uri.fsPath, storeDir);
    assert.equal(result.store, storeFile);
    assert.ok(existsSync(storeFile), `no store at ${storeFile}`);
    const stored = readStore(storeFile);
    assert.equal(stored.calls.size, 30);
    assert.equal(stored.labels.size, 15);
    assert.ok(!readFileSync(storeFile, 'utf8').includes(key), 'the store holds the API key');

    const again = await vscode.commands.executeCommand<LabelCommandResult>(LABEL, uri.toString(), { confirm: false, limitRecords: 3 });
    assert.deepEqual(again, { outcome: 'nothing-to-do', store: storeFile, alreadyStored: 30 });
    assert.equal(judge.requests.length, 30, 'a stored call is never asked again');

    // One more record: only its calls are made.
    const more = await vscode.commands.executeCommand<LabelCommandResult>(LABEL, uri.toString(), { confirm: false, limitRecords: 4, maxCalls: 4 });
    assert.ok(more.outcome === 'ran');
    assert.deepEqual([more.status, more.calls, more.alreadyStored, more.remaining], ['max-calls', 4, 30, 6]);
    assert.equal(judge.requests.length, 34);
  });

  test('llmeval2 (converted by the dataset engine): labelled end to end, interrupted, resumed, report equal to the store', async function () {
    const extension = vscode.extensions.getExtension(EXTENSION_ID)!;
    const physics = join(extension.extensionPath, '..', 'shared', 'data', 'llmeval2-zh', 'human-score', 'Physics_data.json');
    if (!existsSync(physics)) {
      this.skip(); // ../shared/data is absent: nothing to label
      return;
    }
    this.timeout(120_000);
    const source = await Dataset.open(physics, { schemaFile: join(extension.extensionPath, 'docs', 'examples', 'llmeval2.mapping.jsonc') });
    const converted = join(mkdtempSync(join(tmpdir(), 'rl-it-llmeval2-')), 'physics.canonical.jsonl');
    writeCanonical(source, converted);
    source.close();
    await set('labelling.concurrency', 16);
    const uri = vscode.Uri.file(converted).toString();
    const before = judge.requests.length;
    // An interrupted run (the call budget stands in for a kill: the store keeps what returned)…
    const first = await vscode.commands.executeCommand<LabelCommandResult>(LABEL, uri, { confirm: false, limitRecords: 1, maxCalls: 500 });
    assert.ok(first.outcome === 'ran', JSON.stringify(first));
    assert.deepEqual([first.status, first.calls], ['max-calls', 500]);
    // …and the resumed one asks only for the rest: 20 responses → 190 pairs × the category's points × 2 orders.
    const second = await vscode.commands.executeCommand<LabelCommandResult>(LABEL, uri, { confirm: false, limitRecords: 1 });
    assert.ok(second.outcome === 'ran', JSON.stringify(second));
    assert.equal(second.status, 'completed');
    assert.equal(second.alreadyStored, 500);
    assert.equal(second.calls, second.plannedCalls);
    const total = first.calls + second.calls;
    assert.equal(total % (190 * 2), 0);
    assert.equal(judge.requests.length - before, total, 'no call was asked twice');
    const stored = readStore(second.store);
    assert.equal(stored.calls.size, total);
    assert.equal(stored.labels.size, total / 2);
    const report = buildReport(stored);
    const merged = report.rows.reduce((n, r) => n + r.consistent + r.inconsistent + r.invalid, 0);
    assert.equal(merged, stored.labels.size, 'the report counts every merged label in the store');
    assert.equal(report.calls, total);
    await set('labelling.concurrency', 4);
  });

  test("the report panel opens on the dataset's store", async () => {
    const uri = workspaceFile(HH);
    await vscode.commands.executeCommand('rewardlens.showLabelReport', uri.toString());
    const tab = await waitFor(() => webviewTab('rewardlens.labels'), 'the label report tab');
    assert.match(tab.label, /Labels: hh-rlhf-harmless\.sample\.jsonl/);
  });

  test('the API key appears neither in the output channel nor in any log file', async () => {
    const logs = await waitFor(() => {
      const files = filesUnder(testing.logFolder).filter((f) => readFileSync(f, 'utf8').includes(`labelling ${HH}`));
      return files.length > 0 ? files : undefined;
    }, `the RewardLens log under ${testing.logFolder}`);
    for (const f of filesUnder(testing.logFolder)) assert.ok(!readFileSync(f, 'utf8').includes(key), `${f} contains the API key`);
    assert.ok(logs.some((f) => readFileSync(f, 'utf8').includes('fake-judge')));
  });

  test('a rejected key fails the job at once, without the key in the message', async () => {
    const refusing = await FakeJudgeServer.start({ faults: () => ({ kind: 'status', status: 401, body: '{"error":{"message":"invalid api key"}}' }) });
    try {
      await set('judge.baseUrl', refusing.url);
      const result = await vscode.commands.executeCommand<LabelCommandResult>(LABEL, workspaceFile(PANDALM).toString(), { confirm: false, limitRecords: 2 });
      assert.ok(result.outcome === 'ran', JSON.stringify(result));
      assert.equal(result.status, 'failed');
      assert.equal(result.calls, 0);
      assert.ok(refusing.requests.length >= 1 && refusing.requests.length <= 4, `${refusing.requests.length} requests after a 401`);
    } finally {
      await set('judge.baseUrl', judge.url);
      await refusing.close();
    }
  });

  test('points config errors become diagnostics at their line and column, and nothing runs', async () => {
    const bad = join(storeDir, 'points.jsonc');
    writeFileSync(bad, '{\n  // a typo\n  "categoriez": {}\n}\n');
    await set('labelling.pointsConfig', bad);
    try {
      const before = judge.requests.length;
      const result = await vscode.commands.executeCommand<LabelCommandResult>(LABEL, workspaceFile(PANDALM).toString(), { confirm: false, limitRecords: 5 });
      assert.equal(result.outcome, 'not-started');
      assert.equal(judge.requests.length, before);
      const diagnostics = vscode.languages.getDiagnostics(vscode.Uri.file(bad)).filter((d) => d.source === 'RewardLens');
      assert.equal(diagnostics.length, 1, JSON.stringify(diagnostics));
      assert.equal(diagnostics[0].severity, vscode.DiagnosticSeverity.Error);
      assert.deepEqual([diagnostics[0].range.start.line, diagnostics[0].range.start.character], [2, 2]);
      assert.match(diagnostics[0].message, /categoriez/);
    } finally {
      await set('labelling.pointsConfig', undefined);
    }
  });

  test("labels from ratings: one source's ratings become labels, and a rerun writes nothing", async () => {
    const rated = workspaceFile('rated-it.jsonl');
    const answers: { text: string; ratings: Record<string, Record<string, number>> }[] = [
      { text: '哥白尼', ratings: { human: { Correctness: 3 }, 'gpt-4': { Correctness: 3, Logicality: 1 } } },
      { text: '牛顿', ratings: { human: { Correctness: 1 }, 'gpt-4': { Correctness: 1, Logicality: 1 } } },
      { text: '不知道', ratings: { human: { Correctness: 0 }, 'gpt-4': { Correctness: 2 } } },
    ];
    const record = {
      id: '0000000000000000',
      context: [{ role: 'user', content: '日心说是谁提出的？' }],
      category: 'objective knowledge QA',
      responses: answers.map((a) => ({
        text: a.text,
        ratings: Object.entries(a.ratings).flatMap(([source, rs]) => Object.entries(rs).map(([aspect, value]) => ({ aspect, value, source }))),
      })),
      preference: { ranking: [1, 2, 3] },
    };
    writeFileSync(rated.fsPath, `${JSON.stringify(record)}\n`);
    try {
      const result = await vscode.commands.executeCommand<RatingsCommandResult>('rewardlens.labelsFromRatings', rated.toString(), { source: 'gpt-4' });
      assert.ok(result.outcome === 'done', JSON.stringify(result));
      // Correctness: 3 pairs decided; Logicality: 1 pair tied.
      assert.deepEqual([result.written, result.decided, result.ties], [4, 3, 1]);
      await waitFor(() => webviewTab('rewardlens.labels'), 'the label report after labels from ratings');
      const again = await vscode.commands.executeCommand<RatingsCommandResult>('rewardlens.labelsFromRatings', rated.toString(), { source: 'gpt-4' });
      assert.ok(again.outcome === 'done');
      assert.deepEqual([again.written, again.alreadyStored], [0, 4]);
      const unknown = await vscode.commands.executeCommand<RatingsCommandResult>('rewardlens.labelsFromRatings', rated.toString(), { source: 'gpt-5' });
      assert.equal(unknown.outcome, 'not-started');
    } finally {
      rmSync(rated.fsPath, { force: true });
    }
  });

  test('labelling is refused in an untrusted workspace', () => {
    // The test window runs with workspace trust disabled (always trusted), so the guard the
    // commands call first is checked directly.
    assert.equal(vscode.workspace.isTrusted, true);
    assert.equal(labellingBlockedReason(true), undefined);
    assert.match(labellingBlockedReason(false) ?? '', /Restricted Mode/);
  });
});
