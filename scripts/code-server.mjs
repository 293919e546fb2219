// Real VS Code for `npm start` and the integration tests: code-server 4.100.3 (the VS Code 1.100.3
// workbench and a Node extension host), installed on demand into .tools/code-server/ — never a
// dependency of the project, so a plain `npm install` stays fast. See docs in
// /work/shared/notes/real-vscode-tests.md for why not @vscode/test-electron on CI.
//
//   const cs = await launchCodeServer({ workspace });   // installs on first use (≈1 min)
//   open(cs.workbenchUrl({ folder: workspace, extensionDevelopmentPath: ROOT }));
//   await cs.dispose();                                   // kills the whole process tree

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CODE_SERVER_VERSION = '4.100.3';
/** The VS Code release inside CODE_SERVER_VERSION; also the minimum `engines.vscode`. */
export const VSCODE_VERSION = '1.100.3';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = join(ROOT, '.tools');
const INSTALL_DIR = join(TOOLS, 'code-server');
const MARKER = join(INSTALL_DIR, `.installed-${CODE_SERVER_VERSION}`);
const PACKAGE_DIR = join(INSTALL_DIR, 'node_modules', 'code-server');
const ENTRY = join(PACKAGE_DIR, 'out', 'node', 'entry.js');

// code-server's postinstall runs `npm install` in lib/vscode (pinned by its npm-shrinkwrap.json);
// there @vscode/ripgrep 1.15.11 downloads rg v13.0.0-10 from GitHub unless its cache holds it.
const RIPGREP_CACHE = 'vscode-ripgrep-cache-1.15.11';
const RIPGREP_RELEASE = 'v13.0.0-10';

/** Debian packages: gssapi headers for the kerberos addon, rg to seed the cache, a C++ toolchain for node-gyp. */
export const INSTALL_PACKAGES = ['libkrb5-dev', 'ripgrep', 'g++', 'make', 'python3'];
/** Debian packages the browser-driven tests need on top. */
export const TEST_PACKAGES = ['chromium'];
export const CHROMIUM = '/usr/bin/chromium';

/** Native parts of a working install; if one is missing an install script did not run. */
const REQUIRED_FILES = [
  'out/node/entry.js',
  'lib/vscode/out/server-main.js',
  'lib/vscode/node_modules/node-pty/build/Release/pty.node',
  'lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node',
  'lib/vscode/node_modules/kerberos/build/Release/kerberos.node',
  'lib/vscode/node_modules/native-watchdog/build/Release/watchdog.node',
  'lib/vscode/node_modules/@vscode/ripgrep/bin/rg',
];

const defaultLog = (/** @type {string} */ line) => console.log(`[code-server] ${line}`);

function isInstalled(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}

function hasCommand(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Those of `packages` that are not installed (all of them unknown off Debian: empty, nothing to do there). */
export function missingSystemPackages(packages) {
  if (!hasCommand('dpkg-query')) return [];
  return packages.filter((p) => !isInstalled(p));
}

/**
 * What launching code-server would install first: the missing Debian packages code-server's native
 * build needs, and code-server itself. Empty when it is installed (`npm start` asks before installing).
 */
export function codeServerInstallPlan() {
  if (existsSync(MARKER) && missingFiles(PACKAGE_DIR).length === 0) return { packages: [], codeServer: false };
  return { packages: missingSystemPackages(INSTALL_PACKAGES), codeServer: true, into: INSTALL_DIR, version: CODE_SERVER_VERSION };
}

/**
 * Installs the missing Debian packages when running as root (apt-get update first); otherwise
 * throws with the exact command to run. A no-op when all are present or when not on Debian/Ubuntu.
 */
export function ensureSystemPackages(packages, { log = defaultLog } = {}) {
  if (!hasCommand('dpkg-query')) {
    log(`not a Debian-like system: make sure these are installed: ${packages.join(' ')}`);
    return;
  }
  const missing = packages.filter((p) => !isInstalled(p));
  if (missing.length === 0) return;
  // --no-upgrade: install what is missing, never upgrade a package the machine already has.
  const command = `apt-get update && apt-get install -y --no-install-recommends --no-upgrade ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing system packages: ${missing.join(' ')}\nInstall them first:\n  sudo sh -c '${command}'`);
  }
  log(`installing system packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], ['install', '-y', '--no-install-recommends', '--no-upgrade', ...missing]]) {
    const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) throw new Error(`apt-get ${args[0]} failed (exit ${r.status}); run: ${command}`);
  }
}

function missingFiles(packageDir) {
  return REQUIRED_FILES.filter((f) => !existsSync(join(packageDir, f)));
}

/** Puts Debian's rg where @vscode/ripgrep's postinstall looks before downloading from GitHub. */
function seedRipgrepCache(tmp) {
  const target = { x64: 'x86_64-unknown-linux-musl', arm64: 'aarch64-unknown-linux-musl' }[arch()];
  const rg = ['/usr/bin/rg', '/usr/local/bin/rg'].find((p) => existsSync(p));
  if (!target || !rg) throw new Error(`cannot seed the ripgrep cache (arch ${arch()}, rg ${rg ?? 'not found'})`);
  const cache = join(tmp, RIPGREP_CACHE);
  const stage = join(tmp, 'rg-stage');
  mkdirSync(cache, { recursive: true });
  mkdirSync(stage, { recursive: true });
  copyFileSync(rg, join(stage, 'rg'));
  const tarball = join(cache, `ripgrep-${RIPGREP_RELEASE}-${target}.tar.gz`);
  const r = spawnSync('tar', ['czf', tarball, '-C', stage, 'rg'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('tar failed while seeding the ripgrep cache');
}

/** The folder holding include/node/node.h for this Node, so node-gyp does not download headers. */
function localNodeDir() {
  const dir = resolve(dirname(process.execPath), '..');
  return existsSync(join(dir, 'include', 'node', 'node_api.h')) ? dir : undefined;
}

/**
 * Makes sure code-server is installed under .tools/code-server and returns the path of its entry
 * script (run it with this Node). Quick when already installed; otherwise ≈1 min with network
 * access to the npm registry. Installs into a staging folder that is renamed at the end, so an
 * interrupted install never looks finished.
 */
export function ensureCodeServer({ log = defaultLog } = {}) {
  if (existsSync(MARKER) && missingFiles(PACKAGE_DIR).length === 0) return { entry: ENTRY, packageDir: PACKAGE_DIR };

  const major = Number(process.versions.node.split('.')[0]);
  if (major !== 20) {
    throw new Error(`code-server ${CODE_SERVER_VERSION} needs Node 20 (this is Node ${process.versions.node}).`);
  }
  ensureSystemPackages(INSTALL_PACKAGES, { log });

  log(`installing code-server ${CODE_SERVER_VERSION} into ${INSTALL_DIR} (once, ≈1 min)…`);
  const started = Date.now();
  mkdirSync(TOOLS, { recursive: true });
  const staging = mkdtempSync(join(TOOLS, 'code-server.partial-'));
  const tmp = join(staging, '.tmp');
  mkdirSync(tmp);
  seedRipgrepCache(tmp);
  writeFileSync(
    join(staging, 'package.json'),
    JSON.stringify(
      {
        name: 'rewardlens-tools-code-server',
        private: true,
        description: 'Installed by scripts/code-server.mjs; not part of the project.',
        dependencies: { 'code-server': CODE_SERVER_VERSION },
        allowScripts: { 'code-server': true },
      },
      null,
      2,
    ),
  );
  const nodedir = localNodeDir();
  const env = {
    ...process.env,
    TMPDIR: tmp,
    npm_config_yes: 'true', // node-pty runs `npx node-gyp`
    npm_config_unsafe_perm: 'true', // code-server's postinstall refuses to run as root without it
    npm_config_strict_allow_scripts: 'false', // npm 11: run (with a notice) the nested installs' scripts
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...(nodedir ? { npm_config_nodedir: nodedir } : {}),
  };
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['install', '--no-package-lock', '--loglevel=error'], {
    cwd: staging,
    env,
    stdio: 'inherit',
    timeout: 15 * 60_000,
    killSignal: 'SIGKILL',
  });
  const missing = r.status === 0 ? missingFiles(join(staging, 'node_modules', 'code-server')) : [];
  if (r.status !== 0 || missing.length > 0) {
    rmSync(staging, { recursive: true, force: true });
    throw new Error(
      r.status !== 0
        ? `npm install code-server@${CODE_SERVER_VERSION} failed (${r.error ? r.error.message : `exit ${r.status}`}); see the output above.`
        : `code-server installed but native parts are missing (install scripts skipped?): ${missing.join(', ')}`,
    );
  }
  rmSync(tmp, { recursive: true, force: true });
  writeFileSync(join(staging, `.installed-${CODE_SERVER_VERSION}`), `${new Date().toISOString()}\n`);
  rmSync(INSTALL_DIR, { recursive: true, force: true });
  renameSync(staging, INSTALL_DIR);
  log(`installed in ${Math.round((Date.now() - started) / 1000)} s`);
  return { entry: ENTRY, packageDir: PACKAGE_DIR };
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolvePort(port));
    });
  });
}

/** Descendants of `pid` (Linux /proc), deepest last. */
function descendants(pid) {
  const children = new Map();
  let entries = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  for (const e of entries) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(e));
    } catch {
      // the process ended while we looked
    }
  }
  const out = [];
  const walk = (p) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function signal(pid, sig) {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kills a process, its process group and every descendant (some, like terminals, start their own
 * session): SIGTERM, then SIGKILL after `graceMs`.
 */
export async function killTree(pid, graceMs = 3000) {
  const all = [pid, ...descendants(pid)];
  signal(-pid, 'SIGTERM');
  for (const p of all) signal(p, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && all.some((p) => signal(p, 0))) await new Promise((r) => setTimeout(r, 100));
  signal(-pid, 'SIGKILL');
  for (const p of [...all, ...descendants(pid)]) signal(p, 'SIGKILL');
}

/**
 * `node -e PARENT_GUARD TEMP CMD ARGS…` runs CMD in its own process group and, when its stdin
 * closes (the process that spawned it died, even by SIGKILL), kills that group and removes TEMP
 * (unless it is '-').
 */
const PARENT_GUARD = `
const { spawn } = require('node:child_process');
const { rmSync } = require('node:fs');
const [temp, cmd, ...args] = process.argv.slice(1);
const child = spawn(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
const kill = (sig) => { try { process.kill(-child.pid, sig); } catch {} };
let stopping = false;
const finish = (code) => {
  kill('SIGKILL');
  if (stopping && temp !== '-') rmSync(temp, { recursive: true, force: true });
  process.exit(code);
};
const stop = () => {
  if (stopping) return;
  stopping = true;
  kill('SIGTERM');
  setTimeout(() => finish(0), 2000).unref();
};
process.stdin.on('end', stop).on('error', stop).on('close', stop).resume();
process.on('SIGTERM', stop);
process.on('SIGINT', () => undefined);
child.on('exit', (code, sig) => finish(stopping ? 0 : (code ?? (sig ? 1 : 0))));
`;

function killTreeNow(pid) {
  const all = [pid, ...descendants(pid)];
  signal(-pid, 'SIGKILL');
  for (const p of all) signal(p, 'SIGKILL');
}

/**
 * Starts code-server on 127.0.0.1 (a free port unless `port` is given) with throw-away user data,
 * extensions and XDG folders, waits for /healthz and returns a handle. `env` is added to the
 * environment of code-server and so of its extension host; `gallery: false` turns off the
 * extension marketplace; `locale` (e.g. `zh-cn`) sets the display language extensions see. `dispose()` kills the whole process
 * tree and removes the temp folders; the tree is also killed if this process exits.
 */
export async function launchCodeServer({
  workspace = ROOT,
  port,
  settings = {},
  locale,
  env: extraEnv = {},
  gallery = true,
  log = defaultLog,
  verbose = false,
  keepTemp = false,
  startTimeoutMs = 60_000,
} = {}) {
  const { entry } = ensureCodeServer({ log });
  port ??= await freePort();
  const temp = mkdtempSync(join(tmpdir(), 'rewardlens-code-server-'));
  const userDataDir = join(temp, 'user-data');
  const extensionsDir = join(temp, 'extensions');
  for (const d of [join(userDataDir, 'User'), extensionsDir, join(temp, 'config'), join(temp, 'data'), join(temp, 'cache')]) {
    mkdirSync(d, { recursive: true });
  }
  writeFileSync(
    join(userDataDir, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'telemetry.telemetryLevel': 'off',
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'extensions.ignoreRecommendations': true,
        'update.mode': 'none',
        'security.workspace.trust.enabled': false,
        'git.openRepositoryInParentFolders': 'never',
        'chat.commandCenter.enabled': false,
        ...settings,
      },
      null,
      2,
    ),
  );
  // A display language other than English needs a language pack: without one VS Code falls back to
  // English, vscode.env.language stays "en" and no extension's zh-cn bundle is read. No pack can be
  // downloaded here (no marketplace), so `locale` lists an empty one in languagepacks.json, where VS Code
  // resolves the language: its own strings stay English, extensions get `vscode.env.language === locale`.
  if (locale !== undefined) {
    const translations = join(temp, 'language-pack', 'main.i18n.json');
    mkdirSync(dirname(translations), { recursive: true });
    writeFileSync(translations, JSON.stringify({ contents: {} }));
    writeFileSync(
      join(userDataDir, 'languagepacks.json'),
      JSON.stringify({
        [locale]: {
          hash: `rewardlens-test-${locale}`,
          label: locale,
          extensions: [{ extensionIdentifier: { id: `rewardlens-test.language-pack-${locale}` }, version: '0.0.0' }],
          translations: { vscode: translations },
        },
      }),
    );
  }
  const args = [
    entry,
    ...(locale !== undefined ? ['--locale', locale] : []),
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    workspace,
  ];
  const env = {
    ...process.env,
    XDG_CONFIG_HOME: join(temp, 'config'),
    XDG_DATA_HOME: join(temp, 'data'),
    XDG_CACHE_HOME: join(temp, 'cache'),
    // No marketplace (open-vsx.org): nothing to query, no network errors in the logs.
    ...(gallery ? {} : { EXTENSIONS_GALLERY: '{}' }),
    ...extraEnv,
  };
  // code-server would otherwise pick these up and change its behaviour.
  for (const k of ['PASSWORD', 'HASHED_PASSWORD', 'VSCODE_PROXY_URI', 'CODE_SERVER_CONFIG']) delete env[k];

  // Through PARENT_GUARD, so that code-server also goes when this process is killed outright.
  const proc = spawn(process.execPath, ['-e', PARENT_GUARD, keepTemp ? '-' : temp, process.execPath, ...args], {
    env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  /** @type {string[]} */
  const output = [];
  const collect = (chunk) => {
    for (const line of String(chunk).split('\n')) {
      if (!line) continue;
      output.push(line);
      if (output.length > 2000) output.shift();
      if (verbose) log(line);
    }
  };
  proc.stdout.on('data', collect);
  proc.stderr.on('data', collect);
  const onExit = () => killTreeNow(proc.pid);
  process.on('exit', onExit);

  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    process.off('exit', onExit);
    await killTree(proc.pid);
    proc.stdin.destroy();
    if (!keepTemp) rmSync(temp, { recursive: true, force: true, maxRetries: 3 });
  };

  const origin = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + startTimeoutMs;
  let exited = false;
  proc.once('exit', () => (exited = true));
  for (;;) {
    if (exited) {
      await dispose();
      throw new Error(`code-server exited during start-up:\n${output.slice(-40).join('\n')}`);
    }
    try {
      const res = await fetch(`${origin}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await dispose();
      throw new Error(`code-server did not answer /healthz within ${startTimeoutMs / 1000} s:\n${output.slice(-40).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  /** `vscode-remote://` URI of a path on this machine, as the workbench at `origin` sees it. */
  const remoteUri = (path) => `vscode-remote://127.0.0.1:${port}${resolve(path).split('/').map(encodeURIComponent).join('/')}`;

  /**
   * URL of a workbench window. `extensionDevelopmentPath` loads an extension from its folder in
   * development mode; `extensionTestsPath` runs that module's `run()` in the extension host
   * (report through `codeAutomationLog`/`codeAutomationExit`); `openFile` opens a file.
   */
  const workbenchUrl = ({ folder = workspace, extensionDevelopmentPath, extensionTestsPath, openFile } = {}) => {
    const payload = [];
    if (extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', remoteUri(extensionDevelopmentPath)]);
    if (extensionTestsPath) payload.push(['extensionTestsPath', remoteUri(extensionTestsPath)]);
    if (openFile) payload.push(['openFile', remoteUri(openFile)]);
    const query = new URLSearchParams({ folder: resolve(folder) });
    if (payload.length) query.set('payload', JSON.stringify(payload));
    return `${origin}/?${query.toString()}`;
  };

  return {
    origin,
    port,
    pid: proc.pid,
    workspace,
    userDataDir,
    extensionsDir,
    /** Last lines code-server printed (for failure reports). */
    output,
    remoteUri,
    workbenchUrl,
    /** Resolves when code-server exits on its own. */
    exited: new Promise((r) => proc.once('exit', (code, sig) => r({ code, signal: sig }))),
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}

// `node scripts/code-server.mjs` installs (or checks) code-server and prints where it is.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { packageDir } = ensureCodeServer();
    console.log(`code-server ${CODE_SERVER_VERSION} (VS Code ${VSCODE_VERSION}) ready in ${packageDir}`);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
