// `npm run test:desktop`: the in-host suite (dist/test/integration/suite/index.js) in desktop VS Code
// (Electron), downloaded by @vscode/test-electron into .vscode-test/. Needs internet access to
// update.code.visualstudio.com; where that is blocked (CI), `npm test` runs the same suite in
// code-server instead (scripts/integration.mjs).
//
//   npm run test:desktop                      VS Code 1.100.3, the minimum `engines.vscode`
//   VSCODE_VERSION=stable npm run test:desktop
//
// On Linux without a display, run it under `xvfb-run -a`.
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runTests } from '@vscode/test-electron';

const MINIMUM_VSCODE = '1.100.3';

async function main(): Promise<void> {
  // Bundled to dist/test/desktop/runTests.js: the project root is three levels up.
  const root = resolve(__dirname, '..', '..', '..');
  const temp = mkdtempSync(join(tmpdir(), 'rewardlens-desktop-'));
  const workspace = join(temp, 'workspace');
  const userData = join(temp, 'user-data');
  mkdirSync(userData);
  cpSync(join(root, 'test', 'fixtures', 'samples'), workspace, { recursive: true });
  try {
    await runTests({
      version: process.env.VSCODE_VERSION ?? MINIMUM_VSCODE,
      extensionDevelopmentPath: root,
      extensionTestsPath: join(root, 'dist', 'test', 'integration', 'suite', 'index.js'),
      extensionTestsEnv: {
        REWARDLENS_TEST_RESULTS: join(temp, 'in-host-results.json'),
        ...(process.env.REWARDLENS_TEST_GREP ? { REWARDLENS_TEST_GREP: process.env.REWARDLENS_TEST_GREP } : {}),
      },
      launchArgs: [workspace, '--disable-extensions', '--user-data-dir', userData],
    });
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
