// `npm start`: builds RewardLens and serves a real VS Code (code-server 4.100.3 = VS Code 1.100.3)
// on 127.0.0.1 with the extension loaded from this working tree in development mode, the sample
// folder open and the demo reward model (models/demo/) set for CodeLens and hovers. Open the printed URL in a browser; Ctrl-C stops everything.
//
//   npm start [-- --port 8080] [-- --folder path] [-- --file path] [-- --watch] [-- --yes]
//
// Before installing anything (code-server on first use, and as root the Debian packages its native
// build needs that are missing) it says what and asks; --yes answers for a script.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { ROOT, VSCODE_VERSION, codeServerInstallPlan, launchCodeServer } from './code-server.mjs';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string' },
    folder: { type: 'string', default: resolve(ROOT, 'test', 'fixtures', 'samples') },
    file: { type: 'string' },
    watch: { type: 'boolean', default: false }, // rebuild on change (reload the window to pick it up)
    verbose: { type: 'boolean', default: false },
    yes: { type: 'boolean', short: 'y', default: false }, // install what is missing without asking
  },
});

const plan = codeServerInstallPlan();
if (plan.codeServer) {
  const asRoot = process.getuid?.() === 0;
  console.log('npm start needs, once:');
  console.log(`  code-server ${plan.version} (VS Code ${VSCODE_VERSION} in the browser, about 300 MB) into ${plan.into}`);
  if (plan.packages.length > 0) {
    console.log(
      asRoot
        ? `  Debian packages for its native build, missing here: ${plan.packages.join(' ')} (apt-get install --no-upgrade: nothing already installed is upgraded)`
        : `  Debian packages for its native build, missing here: ${plan.packages.join(' ')} — install them first (as root: apt-get install --no-upgrade ${plan.packages.join(' ')})`,
    );
  }
  if (!opts.yes) {
    if (!process.stdin.isTTY) {
      console.error('Not a terminal: run `npm start -- --yes` to install these without asking.');
      process.exit(2);
    }
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = (await rl.question('Install now? [y/N] ')).trim().toLowerCase();
    rl.close();
    if (answer !== 'y' && answer !== 'yes') {
      console.log('Nothing installed.');
      process.exit(1);
    }
  }
}

const folder = resolve(opts.folder);
const file = opts.file ? resolve(opts.file) : resolve(folder, 'demo.test.jsonl');
const demoModel = resolve(ROOT, 'models', 'demo', 'model.onnx');

console.log('building the extension…');
const build = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

let cs;
try {
  cs = await launchCodeServer({
    workspace: folder,
    port: opts.port ? Number(opts.port) : undefined,
    verbose: opts.verbose,
    // User settings, not the sample folder's: the integration tests copy that folder and expect no model.
    settings: existsSync(demoModel) ? { 'rewardlens.scoring.model': demoModel } : {},
  });
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
}

const watcher = opts.watch ? spawn(process.execPath, ['scripts/build.mjs', '--watch'], { cwd: ROOT, stdio: 'inherit' }) : undefined;

const url = cs.workbenchUrl({ folder, extensionDevelopmentPath: ROOT, openFile: existsSync(file) ? file : undefined });
console.log(`
VS Code ${VSCODE_VERSION} (code-server) is running with RewardLens loaded from ${ROOT}.
Open this URL in a browser on this machine:

  ${url}

(${cs.origin}/ alone opens VS Code without the development extension.)
${opts.watch ? 'Rebuilding on change; run "Developer: Reload Window" to load a new build.\n' : ''}Press Ctrl-C to stop.`);

let stopping = false;
const stop = async (code) => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping…');
  watcher?.kill();
  await cs.dispose();
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
const { code, signal } = await cs.exited;
if (!stopping) {
  console.error(`code-server exited unexpectedly (${signal ?? `exit ${code}`}):\n${cs.output.slice(-20).join('\n')}`);
  await stop(1);
}
