import { mkdirSync } from 'node:fs';
import * as vscode from 'vscode';
import type { Ctx } from '../context';

/**
 * "Install GPU Training Backend" / "Install Native Training Backend": @tensorflow/tfjs-node(-gpu) is a
 * native module with a libtensorflow download, too large and platform-bound to ship in the .vsix. It
 * is installed on the user's machine, in a terminal they can watch, into `<globalStorage>/native`,
 * which the extension hands to every training worker as a module path.
 */

/** The version the engine is built against (@tensorflow/tfjs 4.22): the native bindings must match it. */
export const TFJS_NODE_VERSION = '4.22.0';

export type NativeBackend = 'gpu' | 'cpu';

/** The npm command line (POSIX-quoted folder; PowerShell accepts the same single quotes). */
export function installCommandLine(kind: NativeBackend, folder: string): string {
  const pkg = kind === 'gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  return `npm install --prefix '${folder.replace(/'/g, "'\\''")}' --no-save --no-audit --no-fund ${pkg}@${TFJS_NODE_VERSION}`;
}

export async function installBackend(ctx: Ctx, kind: NativeBackend): Promise<boolean> {
  const folder = ctx.training.nativeFolder;
  const detail =
    kind === 'gpu'
      ? vscode.l10n.t(
          'Runs "npm install @tensorflow/tfjs-node-gpu@{0}" in a terminal, into {1}. It downloads libtensorflow with CUDA support (about 400 MB) and needs an NVIDIA GPU with CUDA 11.2 and cuDNN 8.1 installed (other CUDA versions do not load), Node.js with npm on the PATH, and on Windows the Visual C++ build tools. Then choose the backend "tfjs-node-gpu" or "auto".',
          TFJS_NODE_VERSION,
          folder,
        )
      : vscode.l10n.t(
          'Runs "npm install @tensorflow/tfjs-node@{0}" in a terminal, into {1}. It downloads libtensorflow for the CPU (about 100 MB) and needs Node.js with npm on the PATH. Native CPU training is several times faster than the wasm backend. Then choose the backend "tfjs-node" or "auto".',
          TFJS_NODE_VERSION,
          folder,
        );
  const install = vscode.l10n.t('Install');
  const answer = await vscode.window.showWarningMessage(
    kind === 'gpu' ? vscode.l10n.t('Install the GPU training backend?') : vscode.l10n.t('Install the native CPU training backend?'),
    { modal: true, detail },
    install,
  );
  if (answer !== install) return false;
  mkdirSync(folder, { recursive: true });
  const line = installCommandLine(kind, folder);
  ctx.log.info(`installing the ${kind} training backend: ${line}`);
  const terminal = vscode.window.createTerminal({ name: `RewardLens: install ${kind === 'gpu' ? 'tfjs-node-gpu' : 'tfjs-node'}`, cwd: folder });
  terminal.show();
  terminal.sendText(line);
  void vscode.window.showInformationMessage(
    vscode.l10n.t('RewardLens: the install runs in the terminal. Training runs started after it finishes can use the native backend (no reload needed).'),
  );
  return true;
}
