import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { L10N_ATTRIBUTE } from '../../../webview/lib/l10n';

/**
 * The HTML shell of a webview: a nonce CSP, the shared and the view's stylesheet, the view's bundle,
 * and the extension's translations for `l10n.t` in the page (webview/lib/l10n.ts).
 */

/** Webviews may load only what lies under media/ (styles, and the bundles in media/webview). */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions & vscode.WebviewPanelOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')],
  };
}

function escapeAttribute(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, view: { script: string; title: string }): string {
  const nonce = randomBytes(16).toString('base64');
  const media = (...p: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', ...p)).toString();
  // vscode-elements styles its shadow roots with constructable stylesheets (adoptedStyleSheets),
  // which style-src does not restrict: no 'unsafe-inline' needed. Scripts run only with the nonce.
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource}`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="${escapeAttribute(vscode.env.language)}">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${escapeAttribute(media('webview.css'))}">
  <link rel="stylesheet" href="${escapeAttribute(media(`${view.script}.css`))}">
  <title>${escapeAttribute(view.title)}</title>
</head>
<body ${L10N_ATTRIBUTE}="${escapeAttribute(JSON.stringify(vscode.l10n.bundle ?? {}))}">
  <main id="app" aria-busy="true"></main>
  <script nonce="${nonce}" src="${escapeAttribute(media('webview', `${view.script}.js`))}"></script>
</body>
</html>`;
}
