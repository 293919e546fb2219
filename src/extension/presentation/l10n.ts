import type { Bundle } from '../../../webview/lib/l10n';
import { createL10n } from '../../../webview/lib/l10n';

/**
 * vscode.l10n.t for the formatting modules that do not import `vscode` (CodeLens and hover texts,
 * unit-tested with plain Node): the same bundle, handed over at activation (`useBundle`, from
 * vscode.l10n.bundle); before that, and in unit tests, messages stay English.
 */
let bundle: Bundle = {};

export function useBundle(b: Bundle | undefined): void {
  bundle = b ?? {};
}

export const l10n = createL10n(() => bundle);
