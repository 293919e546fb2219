import type { Dataset } from '../dataset/dataset';
import type { ConfigError } from '../jsonc';
import type { PointsConfig } from './points';
import { defaultPointsConfig, loadPointsConfig } from './points';
import type { LabelReport } from './report';
import { buildReport } from './report';
import { readStore } from './store';
import type { Lang, PromptTemplates } from './templates';
import { DEFAULT_TEMPLATES, loadTemplatesFile } from './templates';

/**
 * What the CLI (`rewardlens label`) and the VS Code commands both do around a job: read the points
 * and template files (errors with line and column, for `file:line:column` lines or editor
 * diagnostics), and the report of a store after a run. The callers differ only in how they show it.
 */

/** A configuration file read, or the reasons it cannot be used (at line and column of `file`). */
export type SetupResult<T> = { ok: true; value: T; warnings: ConfigError[] } | { ok: false; file: string; errors: ConfigError[] };

export function isLang(value: unknown): value is Lang {
  return value === 'zh' || value === 'en';
}

/** The capability points of `file` (JSONC), or the paper's defaults when there is none. */
export function resolvePoints(file: string | undefined): SetupResult<PointsConfig> {
  if (file === undefined) return { ok: true, value: defaultPointsConfig(), warnings: [] };
  const r = loadPointsConfig(file);
  return r.ok ? { ok: true, value: r.config, warnings: [] } : { ok: false, file, errors: r.errors };
}

/**
 * The prompt templates of `file` (JSONC), else the default of `lang` (zh when not given). A file
 * whose language differs from an explicitly requested `lang` is an error: the two would disagree
 * about what was asked.
 */
export function resolveTemplates(file: string | undefined, lang: Lang | undefined): SetupResult<PromptTemplates> {
  if (file === undefined) return { ok: true, value: DEFAULT_TEMPLATES[lang ?? 'zh'], warnings: [] };
  const r = loadTemplatesFile(file);
  if (!r.ok) return { ok: false, file, errors: r.errors };
  if (lang !== undefined && r.templates.lang !== lang) {
    return { ok: false, file, errors: [{ line: 1, column: 1, message: `this is a "${r.templates.lang}" template but the language asked for is ${lang}` }] };
  }
  return { ok: true, value: r.templates, warnings: r.warnings };
}

/** The report of what `storeFile` holds now; with the dataset, human agreement too. */
export function storeReport(storeFile: string, options: { dataset?: Dataset; points?: PointsConfig; setup?: string } = {}): LabelReport {
  return buildReport(readStore(storeFile), options);
}
