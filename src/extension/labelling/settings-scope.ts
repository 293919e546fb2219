/**
 * Where the judge settings can be edited. They are machine-scoped (an API endpoint and key source belong
 * to the machine that runs the labelling, not to a synced profile), so in a remote window, and in a web
 * workbench such as code-server whose extension host runs on the server, the User tab shows
 * "No Settings Found" for them: they live under Remote. Pure, so the choice is unit-tested.
 */
export function settingsCommandFor(remoteName: string | undefined, webUi: boolean): 'workbench.action.openRemoteSettings' | 'workbench.action.openSettings' {
  return remoteName || webUi ? 'workbench.action.openRemoteSettings' : 'workbench.action.openSettings';
}
