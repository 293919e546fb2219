/**
 * Translation in webviews. vscode.l10n does not exist in a webview, so the host hands the page the
 * bundle VS Code loaded for the extension (`vscode.l10n.bundle`: l10n/bundle.l10n.<language>.json, or
 * nothing in English) in the HTML shell (src/extension/webviews/html.ts), and a view calls `l10n.t`
 * exactly as extension code calls vscode.l10n.t: the English message is the key, `{0}` placeholders,
 * one pair of bundles for both (`npx @vscode/l10n-dev export -o l10n src/extension webview` extracts
 * the calls of both folders; test/unit/l10n checks every one has its zh-cn translation).
 */

/** The `<body>` attribute holding the bundle as JSON. */
export const L10N_ATTRIBUTE = 'data-l10n';

export type Bundle = Readonly<Record<string, string>>;

export interface L10n {
  /** `message` translated (or as given when the bundle lacks it), `{n}` replaced by `args[n]`. */
  t(message: string, ...args: Array<string | number | boolean>): string;
}

/** `l10n.t` over the bundle `bundle()` returns at each call. */
export function createL10n(bundle: () => Bundle): L10n {
  return {
    t(message, ...args) {
      const template = bundle()[message] ?? message;
      return template.replace(/\{(\d+)\}/g, (whole, i: string) => (Number(i) < args.length ? String(args[Number(i)]) : whole));
    },
  };
}

function fromBody(): Bundle {
  try {
    const parsed: unknown = JSON.parse(document.body.getAttribute(L10N_ATTRIBUTE) ?? '{}');
    return typeof parsed === 'object' && parsed !== null ? (parsed as Bundle) : {};
  } catch {
    return {};
  }
}

let page: Bundle | undefined;
export const l10n = createL10n(() => (page ??= fromBody()));
