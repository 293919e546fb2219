import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { storeFileFor } from '../../core/labelling/store';
import type { Config } from '../config';
import type { IndexedDataset } from '../datasets/registry';

/** Where the labelling files of a dataset are: its file on disk, its store, its points and template files. */

/** The dataset's file on disk, or undefined (an untitled or virtual document has no place for a store). */
export function datasetPath(d: IndexedDataset): string | undefined {
  return d.uri.scheme === 'file' ? d.uri.fsPath : undefined;
}

function workspaceFolderOf(file: string): string | undefined {
  return vscode.workspace.getWorkspaceFolder(vscode.Uri.file(file))?.uri.fsPath ?? vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

/**
 * A configured file (points config, templates): absolute as it is; relative, the first that exists of
 * the dataset's folder and the workspace folder (the dataset's folder when neither has it, so the
 * error names a path).
 */
export function resolveConfigFile(setting: string, datasetFile: string): string {
  if (path.isAbsolute(setting)) return setting;
  const candidates = [path.join(path.dirname(datasetFile), setting)];
  const folder = workspaceFolderOf(datasetFile);
  if (folder !== undefined) candidates.push(path.join(folder, setting));
  return candidates.find((c) => existsSync(c)) ?? candidates[0];
}

/** The label store of a dataset: `rewardlens.labelling.storeDir` (relative to the workspace folder), else `.rewardlens/` beside it. */
export function storeFileOf(config: Config, datasetFile: string): string {
  const dir = config.labellingStoreDir;
  if (dir === undefined) return storeFileFor(datasetFile);
  const base = workspaceFolderOf(datasetFile) ?? path.dirname(datasetFile);
  return storeFileFor(datasetFile, path.resolve(base, dir));
}
