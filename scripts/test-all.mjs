// `npm test`: build, type check, lint, unit tests, then the integration tests in a real VS Code.
//
//   npm test                          everything
//   npm test -- --unit-only           build + unit tests (quick)
//   npm test -- --integration-only    build + integration tests
//   npm test -- --grep RE             passed on to the integration run
//
// Prints each stage's result and ends with one line `N passed, N failed[, N skipped]` counting
// unit + integration tests; a stage that fails without test counts (build, typecheck, lint, a crash)
// adds 1 to `failed`, so the exit code is 0 exactly when that line says `0 failed`.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './code-server.mjs';

const { values: opts } = parseArgs({
  options: {
    'unit-only': { type: 'boolean', default: false },
    'integration-only': { type: 'boolean', default: false },
    grep: { type: 'string' },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log('usage: npm test -- [--unit-only | --integration-only] [--grep RE] [--verbose]');
  process.exit(0);
}

const TMP = join(ROOT, '.test-tmp');
const UNIT_TAP = join(TMP, `unit-${process.pid}.tap`); // per run: others may test in the same tree
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Runs a command with inherited stdio, or with stdout also captured when `capture` is set. */
function exec(cmd, args, { capture = false } = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['inherit', capture ? 'pipe' : 'inherit', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      process.stdout.write(d);
    });
    child.on('error', (err) => resolve({ code: 127, out: String(err) }));
    child.on('exit', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), out }));
  });
}

/** @type {{ name: string, ok: boolean, seconds: number, note: string }[]} */
const stages = [];
const totals = { passed: 0, failed: 0, skipped: 0 };

async function stage(name, fn) {
  console.log(`\n━━ ${name} ━━`);
  const started = Date.now();
  let ok = false;
  let note = '';
  try {
    ({ ok, note = '' } = await fn());
  } catch (err) {
    note = err instanceof Error ? err.message : String(err);
  }
  const seconds = (Date.now() - started) / 1000;
  stages.push({ name, ok, seconds, note });
  console.log(`━━ ${name}: ${ok ? 'ok' : 'FAILED'} (${seconds.toFixed(1)} s)${note ? ` — ${note}` : ''}`);
  return ok;
}

/** Adds a test stage's counts; a failed stage without counts counts as one failure. */
function count(counts, code) {
  if (!counts) {
    totals.failed += 1;
    return { ok: false, note: `exit ${code}, no test summary` };
  }
  totals.passed += counts.passed;
  totals.failed += counts.failed;
  totals.skipped += counts.skipped;
  if (code !== 0 && counts.failed === 0) totals.failed += 1;
  const note = `${counts.passed} passed, ${counts.failed} failed${counts.skipped ? `, ${counts.skipped} skipped` : ''}`;
  return { ok: code === 0 && counts.failed === 0, note };
}

const simple = (cmd, args) => async () => {
  const { code } = await exec(cmd, args);
  if (code !== 0) totals.failed += 1;
  return { ok: code === 0, note: code === 0 ? '' : `exit ${code}` };
};

async function unitTests() {
  rmSync(UNIT_TAP, { force: true });
  mkdirSync(TMP, { recursive: true });
  const { code } = await exec(process.execPath, [
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${UNIT_TAP}`,
    'dist/test/unit/',
  ]);
  let tap = '';
  try {
    tap = readFileSync(UNIT_TAP, 'utf8');
  } catch {
    // no report: counted as a failure below
  }
  rmSync(UNIT_TAP, { force: true });
  // The last top-level summary of node --test's TAP output.
  const num = (key) => {
    const all = [...tap.matchAll(new RegExp(`^# ${key} (\\d+)$`, 'gm'))];
    return all.length ? Number(all[all.length - 1][1]) : undefined;
  };
  const pass = num('pass');
  const fail = num('fail');
  const counts = pass === undefined || fail === undefined ? undefined : { passed: pass, failed: fail, skipped: (num('skipped') ?? 0) + (num('todo') ?? 0) };
  return count(counts, code);
}

async function integrationTests() {
  const args = ['scripts/integration.mjs'];
  if (opts.grep) args.push('--grep', opts.grep);
  if (opts.verbose) args.push('--verbose');
  const { code, out } = await exec(process.execPath, args, { capture: true });
  const lines = [...out.matchAll(/^(\d+) passed, (\d+) failed(?:, (\d+) skipped)?$/gm)];
  const last = lines[lines.length - 1];
  return count(last ? { passed: Number(last[1]), failed: Number(last[2]), skipped: Number(last[3] ?? 0) } : undefined, code);
}

const started = Date.now();
const built = await stage('build', simple(process.execPath, ['scripts/build.mjs']));
if (built) {
  if (!opts['unit-only'] && !opts['integration-only']) {
    await stage('typecheck (tsc --noEmit)', simple(npm, ['run', '--silent', 'typecheck']));
    await stage('lint (eslint)', simple(npm, ['run', '--silent', 'lint']));
  }
  if (!opts['integration-only']) await stage('unit tests (node --test)', unitTests);
  if (!opts['unit-only']) await stage('integration tests (code-server + chromium)', integrationTests);
}

console.log('\n━━ summary ━━');
for (const s of stages) console.log(`  ${s.ok ? 'ok    ' : 'FAILED'}  ${s.name.padEnd(44)} ${s.seconds.toFixed(1).padStart(6)} s  ${s.note}`);
console.log(`  total ${((Date.now() - started) / 1000).toFixed(1)} s`);
const failedStages = stages.filter((s) => !s.ok).length;
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
process.exit(failedStages > 0 || totals.failed > 0 ? 1 : 0);
