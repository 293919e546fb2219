import * as vscode from 'vscode';

/**
 * Workspace trust. Training runs a process that reads the workspace's datasets, writes beside them and
 * loads native modules, with settings (backend, runs folder) a workspace can set: in a workspace the user
 * has not trusted it does not run (package.json `capabilities.untrustedWorkspaces`).
 */

/** Why training must not run, or undefined when it may. Pure, so it is tested without an untrusted window. */
export function trainingBlockedReason(isTrusted: boolean): string | undefined {
  return isTrusted
    ? undefined
    : vscode.l10n.t(
        "training is disabled in Restricted Mode: it runs a training process on this workspace's files with this workspace's training settings. Trust the workspace to train.",
      );
}
