// Integration tests in a real VS Code 1.100.3 (code-server) driven by Debian's chromium.
//
//   node scripts/build.mjs && node scripts/integration.mjs [--grep RE] [--host-only | --ui-only] [--keep]
//
// 1. In-host tests: dist/test/integration/suite/index.js runs inside the extension host (mocha,
//    every suite/*.test.ts); the window reports its exit code through `codeAutomationExit`.
// 2. UI tests: every exported function of dist/test/integration/ui/*.test.js is called with a
//    workbench page (see test/integration/ui/harness.ts); a failure saves a screenshot to
//    .test-tmp/screenshots/.
// Ends with a line `N passed, N failed[, N skipped]`; exits 1 on any failure. Nothing waits forever:
// each phase and test has a time limit and the whole run is capped (REWARDLENS_IT_TIMEOUT_S, 540 s).

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { CHROMIUM, ROOT, TEST_PACKAGES, ensureSystemPackages, launchCodeServer } from './code-server.mjs';

const require = createRequire(import.meta.url);
process.setSourceMapsEnabled(true); // stack traces of UI tests point into test/integration/ui/*.ts

const { values: opts } = parseArgs({
  options: {
    grep: { type: 'string' },
    'host-only': { type: 'boolean', default: false },
    'ui-only': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false }, // keep .test-tmp/integration and code-server's temp folders
    verbose: { type: 'boolean', default: false }, // print code-server's and the browser's output
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log('usage: node scripts/integration.mjs [--grep RE] [--host-only | --ui-only] [--keep] [--verbose]');
  process.exit(0);
}

const TOTAL_TIMEOUT_S = Number(process.env.REWARDLENS_IT_TIMEOUT_S ?? 540);
const HOST_TIMEOUT_MS = 360_000; // the whole in-host suite (a real PyTorch training among its tests)
const UI_TEST_TIMEOUT_MS = 60_000; // one UI test
const WORKBENCH_TIMEOUT_MS = 60_000; // a window until the extension host is up

const DIST = join(ROOT, 'dist', 'test', 'integration');
const SUITE_ENTRY = join(DIST, 'suite', 'index.js');
const UI_DIR = join(DIST, 'ui');
const UI_SOURCES = join(ROOT, 'test', 'integration', 'ui');
const TMP = join(ROOT, '.test-tmp');
// One folder per run: several people (or `npm test` and `npm start`) may run in the same tree.
const RUN_DIR = join(TMP, 'integration', `run-${process.pid}-${Date.now().toString(36)}`);
const WORKSPACE = join(RUN_DIR, 'workspace');
const SCREENSHOTS = join(TMP, 'screenshots');
const HOST_RESULTS = join(RUN_DIR, 'in-host-results.json');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'samples');
/** Console error that VS Code logs when the extension's `activate()` throws. */
const ACTIVATION_FAILED = /Activating extension 'rewardlens\.rewardlens' failed/;
const grep = opts.grep ? new RegExp(opts.grep, 'i') : undefined;
/**
 * UI test files named `<name>.<locale>.test.ts` (`l10n.zh-cn.test.ts`) run in a second code-server
 * started with that display language, after the others.
 */
const LOCALE_TEST = /\.([a-z]{2}(?:-[a-z]{2})?)\.test\.js$/;

const counts = { passed: 0, failed: 0, skipped: 0 };
/** @type {{ name: string, error: string }[]} */
const failures = [];
const log = (line) => console.log(line);
const elapsed = (since) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

function summaryLine() {
  return `${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`;
}

function fail(name, error) {
  counts.failed++;
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  // eslint-disable-next-line no-control-regex -- strips the ANSI colours playwright puts in its call logs
  failures.push({ name, error: message.replace(/\x1b\[[0-9;]*m/g, '') });
}

/** Resolves with the value of `promise`, or rejects after `ms` with `what` in the message. */
function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function safeName(name) {
  return name.replace(/[^\w.-]+/g, '_').slice(0, 120);
}

/** Waits until the workbench has rendered and shows the opened folder. */
async function waitForWorkbench(page) {
  await page.locator('.monaco-workbench .part.statusbar').waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
  await page.locator('.monaco-workbench .part.editor').waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: WORKBENCH_TIMEOUT_MS });
}

function printFailures() {
  if (!failures.length) return;
  log('\n── failures ──');
  for (const f of failures) log(`\n✗ ${f.name}\n${f.error.replace(/^/gm, '    ')}`);
}

// ---- phases ----------------------------------------------------------------------------------

async function runInHostTests(browser, cs) {
  const started = Date.now();
  log('\n── in-host tests (extension host, mocha) ──');
  rmSync(HOST_RESULTS, { force: true });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  /** @type {(code: number) => void} */
  let exited = () => undefined;
  const exitCode = new Promise((resolve) => (exited = resolve));
  const lines = [];
  await page.exposeFunction('codeAutomationLog', (level, message) => {
    const text = String(message);
    lines.push(`[${level}] ${text}`);
    // The suite prints its progress with a `[in-host]` prefix; show that, and errors.
    for (const line of text.split('\n')) {
      if (line.includes('[in-host]')) log(line.slice(line.indexOf('[in-host]')));
      else if (opts.verbose) log(`  [window ${level}] ${line}`);
    }
  });
  await page.exposeFunction('codeAutomationExit', (code) => exited(Number(code)));
  page.on('pageerror', (err) => lines.push(`[pageerror] ${err.message}`));
  const url = cs.workbenchUrl({ folder: WORKSPACE, extensionDevelopmentPath: ROOT, extensionTestsPath: SUITE_ENTRY });
  if (opts.verbose) log(`  ${url}`);
  try {
    await page.goto(url);
    const code = await withTimeout(exitCode, HOST_TIMEOUT_MS, 'the in-host suite');
    if (!existsSync(HOST_RESULTS)) {
      fail('in-host suite', new Error(`exited with code ${code} without results (did it load?)\n${lines.slice(-30).join('\n')}`));
    } else {
      const results = JSON.parse(readFileSync(HOST_RESULTS, 'utf8'));
      counts.passed += results.passed;
      counts.skipped += results.skipped;
      for (const t of results.tests.filter((t) => t.state === 'failed')) fail(`in-host › ${t.title}`, t.error);
      if (code !== 0 && results.failed === 0) fail('in-host suite', new Error(`exited with code ${code}\n${lines.slice(-30).join('\n')}`));
    }
  } catch (err) {
    await page.screenshot({ path: join(SCREENSHOTS, 'in-host-suite.png') }).catch(() => undefined);
    fail('in-host suite', `${err instanceof Error ? err.message : err}\nlast window log lines:\n${lines.slice(-30).join('\n')}`);
  } finally {
    await context.close().catch(() => undefined);
  }
  log(`in-host: done in ${elapsed(started)}`);
}

function loadUiTests() {
  if (!existsSync(UI_DIR)) return [];
  const tests = [];
  const files = readdirSync(UI_DIR)
    .filter((f) => f.endsWith('.test.js'))
    .filter((f) => existsSync(join(UI_SOURCES, f.replace(/\.js$/, '.ts')))) // the build leaves outputs of deleted tests
    .sort();
  for (const file of files) {
    const mod = require(join(UI_DIR, file));
    for (const [name, fn] of Object.entries(mod)) {
      if (typeof fn === 'function') tests.push({ name: `${file.replace(/\.test\.js$/, '')} › ${name}`, fn, locale: LOCALE_TEST.exec(file)?.[1] });
    }
  }
  return tests;
}

/** The UI tests that --grep selects, those of one display language (`locale` undefined: the default one). */
function selectedUiTests(locale) {
  return loadUiTests().filter((t) => (!grep || grep.test(t.name)) && t.locale === locale);
}

async function runUiTests(browser, cs, locale) {
  const started = Date.now();
  log(`\n── UI tests (playwright + chromium${locale ? `, display language ${locale}` : ''}) ──`);
  const tests = selectedUiTests(locale);
  if (tests.length === 0) {
    log('  (no UI tests)');
    return;
  }
  const harness = require(join(UI_DIR, 'harness.js'));
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const consoleErrors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
    if (opts.verbose) log(`  [browser ${msg.type()}] ${msg.text()}`);
  });
  page.on('pageerror', (err) => consoleErrors.push(`pageerror: ${err.message}`));
  try {
    await page.goto(cs.workbenchUrl({ folder: WORKSPACE, extensionDevelopmentPath: ROOT }));
    await waitForWorkbench(page);
    log(`  workbench ready in ${elapsed(started)}`);
  } catch (err) {
    await page.screenshot({ path: join(SCREENSHOTS, 'ui-workbench.png') }).catch(() => undefined);
    for (const t of tests) fail(`ui › ${t.name}`, `the workbench did not load: ${err instanceof Error ? err.message : err}`);
    await context.close().catch(() => undefined);
    return;
  }
  for (const t of tests) {
    const testStarted = Date.now();
    const errorsBefore = consoleErrors.length;
    try {
      await withTimeout(harness.resetWorkbench(page), 20_000, 'resetting the workbench');
      await withTimeout(t.fn({ page, workspace: WORKSPACE, log: (m) => log(`      ${m}`) }), UI_TEST_TIMEOUT_MS, t.name);
      // A UI can look fine while the extension failed to activate (contributions still show).
      const activation = consoleErrors.find((e) => ACTIVATION_FAILED.test(e));
      if (activation) throw new Error(activation);
      counts.passed++;
      rmSync(join(SCREENSHOTS, `${safeName(t.name)}.png`), { force: true }); // from an earlier failure
      log(`  ✓ ${t.name} (${Date.now() - testStarted} ms)`);
    } catch (err) {
      const shot = join(SCREENSHOTS, `${safeName(t.name)}.png`);
      await page.screenshot({ path: shot }).catch(() => undefined);
      const newErrors = consoleErrors.slice(errorsBefore, errorsBefore + 10);
      const detail = `${err instanceof Error ? (err.stack ?? err.message) : err}\nscreenshot: ${relative(ROOT, shot)}${newErrors.length ? `\nbrowser console errors:\n  ${newErrors.join('\n  ')}` : ''}`;
      fail(`ui › ${t.name}`, detail);
      log(`  ✗ ${t.name} (${Date.now() - testStarted} ms)`);
    }
  }
  await context.close().catch(() => undefined);
  log(`ui: done in ${elapsed(started)}`);
}

// ---- main ------------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  if (!existsSync(SUITE_ENTRY)) throw new Error(`${relative(ROOT, SUITE_ENTRY)} is missing: run \`node scripts/build.mjs\` first`);
  if (!existsSync(join(ROOT, 'dist', 'extension.js'))) throw new Error('dist/extension.js is missing: run `node scripts/build.mjs` first');
  ensureSystemPackages(TEST_PACKAGES);

  mkdirSync(SCREENSHOTS, { recursive: true });
  // Not the demo's shipped runs (.rewardlens/): the tests count the runs they train.
  cpSync(FIXTURES, WORKSPACE, { recursive: true, filter: (src) => !src.split(/[\\/]/).includes('.rewardlens') });

  const cs = await launchCodeServer({
    workspace: WORKSPACE,
    keepTemp: opts.keep,
    verbose: opts.verbose,
    gallery: false,
    env: {
      REWARDLENS_TEST_RESULTS: HOST_RESULTS,
      ...(opts.grep ? { REWARDLENS_TEST_GREP: opts.grep } : {}),
    },
  });
  log(`code-server ${cs.origin} up in ${elapsed(started)}`);
  const { chromium } = require('playwright-core');
  let browser;
  const cleanup = async () => {
    await browser?.close().catch(() => undefined);
    await cs.dispose();
    if (!opts.keep) rmSync(RUN_DIR, { recursive: true, force: true });
  };
  const watchdog = setTimeout(() => {
    console.error(`\nintegration run exceeded ${TOTAL_TIMEOUT_S} s; stopping`);
    fail('integration run', `exceeded ${TOTAL_TIMEOUT_S} s`);
    printFailures();
    console.log(summaryLine());
    void cleanup().finally(() => process.exit(1));
  }, TOTAL_TIMEOUT_S * 1000);
  watchdog.unref();
  for (const sig of ['SIGINT', 'SIGTERM']) {
    process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  }

  try {
    browser = await chromium.launch({
      executablePath: process.env.REWARDLENS_CHROMIUM ?? CHROMIUM,
      headless: true,
      timeout: 60_000,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    });
    log(`chromium up in ${elapsed(started)}`);
    if (!opts['ui-only']) await runInHostTests(browser, cs);
    if (!opts['host-only']) {
      await runUiTests(browser, cs);
      const locales = [
        ...new Set(
          loadUiTests()
            .map((t) => t.locale)
            .filter((l) => l !== undefined),
        ),
      ].filter((l) => selectedUiTests(l).length > 0);
      for (const locale of locales) {
        const localised = await launchCodeServer({ workspace: WORKSPACE, keepTemp: opts.keep, verbose: opts.verbose, gallery: false, locale });
        try {
          await runUiTests(browser, localised, locale);
        } finally {
          await localised.dispose();
        }
      }
    }
  } finally {
    clearTimeout(watchdog);
    const stopping = Date.now();
    await cleanup();
    log(`stopped chromium and code-server in ${elapsed(stopping)}`);
  }

  log(`\nintegration: ${elapsed(started)}`);
}

try {
  await main();
} catch (err) {
  fail('integration run', err);
}
if (!opts.keep) rmSync(RUN_DIR, { recursive: true, force: true });
printFailures();
console.log(summaryLine());
process.exit(counts.failed > 0 ? 1 : 0);
