// Entry point of the in-host tests (the `extensionTestsPath` contract shared by
// @vscode/test-electron and the web workbench): VS Code loads this module inside the extension
// host and calls `run()`; the run fails when the promise rejects.
//
// Every `*.test.js` next to this file (compiled from `*.test.ts`) is a mocha file with the TDD UI
// (`suite`, `test`, `suiteSetup`, …). Results are printed line by line with console.log (which the
// extension host forwards to the window) and, when REWARDLENS_TEST_RESULTS names a file, written
// there as JSON for the runner (scripts/integration.mjs) to count.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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

/**
 * The compiled test files next to this one. When the sources are at hand (a build in the working
 * tree), only files whose `.ts` still exists: the build does not delete outputs of removed tests.
 */
function testFiles(): string[] {
  const sources = resolve(__dirname, '..', '..', '..', '..', 'test', 'integration', 'suite');
  return readdirSync(__dirname)
    .filter((f) => f.endsWith('.test.js'))
    .filter((f) => !existsSync(sources) || existsSync(join(sources, f.replace(/\.js$/, '.ts'))))
    .sort();
}

export function run(): Promise<void> {
  process.setSourceMapsEnabled(true); // stack traces point into the .ts sources
  const mocha = new Mocha({
    ui: 'tdd',
    reporter: 'base', // counts only; the lines below are printed with console.log
    timeout: Number(process.env.REWARDLENS_TEST_TIMEOUT_MS ?? 20_000),
    color: false,
  });
  if (process.env.REWARDLENS_TEST_GREP) mocha.grep(new RegExp(process.env.REWARDLENS_TEST_GREP, 'i'));
  for (const file of testFiles()) mocha.addFile(join(__dirname, file));

  const results: SuiteResults = { passed: 0, failed: 0, skipped: 0, tests: [] };
  const finish = (): void => {
    const file = process.env.REWARDLENS_TEST_RESULTS;
    if (file) writeFileSync(file, JSON.stringify(results, null, 2));
    console.log(`[in-host] ${results.passed} passed, ${results.failed} failed${results.skipped ? `, ${results.skipped} skipped` : ''}`);
  };
  return new Promise((done, reject) => {
    let runner: Mocha.Runner;
    try {
      runner = mocha.run((failures) => {
        finish();
        if (failures > 0) reject(new Error(`${failures} in-host test(s) failed`));
        else done();
      });
    } catch (err) {
      // A test file threw while loading (mocha requires them all before running any).
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      results.failed++;
      results.tests.push({ title: 'loading the test files', state: 'failed', error });
      console.log(`[in-host] ✗ loading the test files\n${error.replace(/^/gm, '[in-host]     ')}`);
      finish();
      reject(err instanceof Error ? err : new Error(error));
      return;
    }
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
