import * as vscode from 'vscode';

/**
 * Workspace trust. A labelling job sends dataset text to an endpoint and spends money, with settings
 * (points, templates, store folder) that a workspace can set: in a workspace the user has not trusted
 * it does not run (package.json `capabilities.untrustedWorkspaces`).
 */

/** Why labelling must not run, or undefined when it may. Pure, so it is tested without an untrusted window. */
export function labellingBlockedReason(isTrusted: boolean): string | undefined {
  return isTrusted
    ? undefined
    : vscode.l10n.t(
        "labelling is disabled in Restricted Mode: it sends dataset text to the judge and uses this workspace's labelling settings. Trust the workspace to label it.",
      );
}
