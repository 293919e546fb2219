import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import type { ConfigError } from '../../core/jsonc';
import type { PointsConfig } from '../../core/labelling/points';
import type { SetupResult } from '../../core/labelling/setup';
import { resolvePoints, resolveTemplates } from '../../core/labelling/setup';
import type { PromptTemplates } from '../../core/labelling/templates';
import type { Ctx } from '../context';
import { resolveConfigFile } from './paths';

/**
 * The points config and prompt templates of a job, from the settings (`rewardlens.labelling.pointsConfig`,
 * `.templatesFile`, `.lang`) through the same core functions as the CLI. Their problems become
 * diagnostics of those files at line and column; the job does not start while there is an error.
 */

export interface JobConfig {
  points: PointsConfig;
  templates: PromptTemplates;
}

/** The first problem, for the message; every problem is a diagnostic. */
export interface JobConfigProblem {
  file: string;
  message: string;
  count: number;
}

function lineText(lines: string[] | undefined, line: number): string {
  return lines?.[line] ?? '';
}

/** Diagnostics at `line:column` (1-based), to the end of the token there (or of the line). */
function toDiagnostics(file: string, errors: readonly ConfigError[], severity: vscode.DiagnosticSeverity): vscode.Diagnostic[] {
  let lines: string[] | undefined;
  try {
    lines = readFileSync(file, 'utf8').split(/\r?\n/);
  } catch {
    lines = undefined;
  }
  return errors.map((e) => {
    const line = Math.max(0, e.line - 1);
    const start = Math.max(0, e.column - 1);
    const rest = lineText(lines, line).slice(start);
    const token = /^("(?:[^"\\]|\\.)*"|[^\s,:}\]]+)/.exec(rest)?.[0] ?? rest.trimEnd();
    const range = new vscode.Range(line, start, line, start + Math.max(1, token.length));
    const d = new vscode.Diagnostic(range, e.message, severity);
    d.source = 'RewardLens';
    return d;
  });
}

/** Reads both files; reports their problems (replacing earlier ones) and returns the config or the first error. */
export function loadJobConfig(ctx: Ctx, datasetFile: string): JobConfig | JobConfigProblem {
  const { config } = ctx;
  const collection = ctx.labelling.configDiagnostics;
  collection.clear();
  const pointsSetting = config.labellingPointsConfig;
  const templatesSetting = config.labellingTemplatesFile;
  const pointsFile = pointsSetting === undefined ? undefined : resolveConfigFile(pointsSetting, datasetFile);
  const templatesFile = templatesSetting === undefined ? undefined : resolveConfigFile(templatesSetting, datasetFile);
  const points = resolvePoints(pointsFile);
  const templates = resolveTemplates(templatesFile, config.labellingLang);
  const byFile = new Map<string, vscode.Diagnostic[]>();
  const add = (file: string, errors: readonly ConfigError[], severity: vscode.DiagnosticSeverity): void => {
    if (errors.length > 0) byFile.set(file, [...(byFile.get(file) ?? []), ...toDiagnostics(file, errors, severity)]);
  };
  const report = (r: SetupResult<unknown>, file: string | undefined): void => {
    if (!r.ok) add(r.file, r.errors, vscode.DiagnosticSeverity.Error);
    else if (file !== undefined) add(file, r.warnings, vscode.DiagnosticSeverity.Warning);
  };
  report(points, pointsFile);
  report(templates, templatesFile);
  for (const [file, diagnostics] of byFile) collection.set(vscode.Uri.file(file), diagnostics);
  if (points.ok && templates.ok) return { points: points.value, templates: templates.value };
  const failed = [points, templates].flatMap((r) => (r.ok ? [] : [r]));
  const first = failed[0].errors[0];
  return { file: failed[0].file, message: `${first.line}:${first.column}: ${first.message}`, count: failed.reduce((n, r) => n + r.errors.length, 0) };
}

export function isJobConfig(r: JobConfig | JobConfigProblem): r is JobConfig {
  return 'points' in r;
}
