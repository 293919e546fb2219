// Entry point of the in-host tests (the `extensionTestsPath` contract shared by
// @vscode/test-electron and the web workbench): VS Code loads this module inside the extension
// host and calls `run()`; the run fails when the promise rejects.
//
// Every `*.test.js` next to this file (compiled from `*.test.ts`) is a mocha file with the TDD UI
// (`suite`, `test`, `suiteSetup`, …). Results are printed line by line with console.log (which the
// extension host forwards to the window) and, when REWARDLENS_TEST_RESULTS names a file, written
// there as JSON for the runner (scripts/integration.mjs) to count.
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

export interface TestResult {
  title: string;
  state: 'passed' | 'failed' | 'skipped';
  durationMs?: number;
  error?: string;
}

export interface SuiteResults {
  passed: number;
  failed: number;
  skipped: number;
  tests: TestResult[];
}

const { EVENT_SUITE_BEGIN, EVENT_TEST_PASS, EVENT_TEST_FAIL, EVENT_TEST_PENDING } = Mocha.Runner.constants;

export function run(): Promise<void> {
  const mocha = new Mocha({
    ui: 'tdd',
    reporter: 'base', // counts only; the lines below are printed with console.log
    timeout: Number(process.env.REWARDLENS_TEST_TIMEOUT_MS ?? 20_000),
    color: false,
  });
  if (process.env.REWARDLENS_TEST_GREP) mocha.grep(new RegExp(process.env.REWARDLENS_TEST_GREP, 'i'));
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) {
    mocha.addFile(join(__dirname, file));
  }

  const results: SuiteResults = { passed: 0, failed: 0, skipped: 0, tests: [] };
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const file = process.env.REWARDLENS_TEST_RESULTS;
      if (file) writeFileSync(file, JSON.stringify(results, null, 2));
      console.log(`[in-host] ${results.passed} passed, ${results.failed} failed${results.skipped ? `, ${results.skipped} skipped` : ''}`);
      if (failures > 0) reject(new Error(`${failures} in-host test(s) failed`));
      else resolve();
    });
    const indent = (t: Mocha.Runnable | Mocha.Suite): string => '  '.repeat(Math.max(0, t.titlePath().length - 1));
    runner.on(EVENT_SUITE_BEGIN, (s: Mocha.Suite) => {
      if (s.title) console.log(`[in-host] ${indent(s)}${s.title}`);
    });
    runner.on(EVENT_TEST_PASS, (t: Mocha.Test) => {
      results.passed++;
      results.tests.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration });
      console.log(`[in-host] ${indent(t)}✓ ${t.title} (${t.duration ?? 0} ms)`);
    });
    runner.on(EVENT_TEST_PENDING, (t: Mocha.Test) => {
      results.skipped++;
      results.tests.push({ title: t.fullTitle(), state: 'skipped' });
      console.log(`[in-host] ${indent(t)}- ${t.title} (skipped)`);
    });
    // Also fires for failing hooks, which then stand for the tests they prevented.
    runner.on(EVENT_TEST_FAIL, (t: Mocha.Runnable, err: Error) => {
      results.failed++;
      const error = err?.stack ?? String(err);
      results.tests.push({ title: t.fullTitle(), state: 'failed', error });
      console.log(`[in-host] ${indent(t)}✗ ${t.title}\n${error.replace(/^/gm, '[in-host]     ')}`);
    });
  });
}
