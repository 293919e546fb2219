import * as vscode from 'vscode';
import type { Pricing } from '../core/labelling/estimate';
import { DEFAULT_MAX_RETRY_WAIT_SECONDS, MAX_RETRY_WAIT_SECONDS_LIMIT } from '../core/labelling/retry';
import type { Lang } from '../core/labelling/templates';
import type { TrainBackend } from '../core/training/types';
import { TRAIN_BACKENDS } from '../core/training/types';
import type { PresetName } from '../core/model/config';
import { PRESET_NAMES } from '../core/model/config';

/** Typed access to `contributes.configuration` (package.json); keep the two in step. */

export type RankDirection = 'lower-is-better' | 'higher-is-better';

export type JudgeProviderKind = 'openai-compatible' | 'vscode-lm';

const positive = (n: unknown): number | undefined => (typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined);
const nonNegative = (n: unknown): number | undefined => (typeof n === 'number' && Number.isFinite(n) && n >= 0 ? n : undefined);
const text = (s: unknown): string | undefined => (typeof s === 'string' && s.trim() !== '' ? s.trim() : undefined);

const SECTION = 'rewardlens';

/** VS Code hands extensions no document over this size; such files are indexed from disk. */
export const DOCUMENT_SYNC_LIMIT_BYTES = 50 * 1024 * 1024;

export class Config {
  private get<T>(key: string): T | undefined {
    return vscode.workspace.getConfiguration(SECTION).get<T>(key);
  }

  /** Show a CodeLens with category, response count and ranking above each record. */
  get codeLensEnabled(): boolean {
    return this.get<boolean>('codeLens.enabled') ?? true;
  }

  get hoverEnabled(): boolean {
    return this.get<boolean>('hover.enabled') ?? true;
  }

  /** Training, evaluation and labelling read a dataset with its edits journal (.rewardlens/<file>.edits.jsonl) applied. */
  get curationApplyEdits(): boolean {
    return this.get<boolean>('curation.applyEdits') ?? true;
  }

  /** Mark edited records in the editor (curation/decorations.ts). */
  get curationDecorations(): boolean {
    return this.get<boolean>('curation.decorations') ?? true;
  }

  get diagnosticsEnabled(): boolean {
    return this.get<boolean>('diagnostics.enabled') ?? true;
  }

  /** How explicit numeric ranks (DMoERM `rank[]`) are read; the data does not say. */
  get rankDirection(): RankDirection {
    return this.get<RankDirection>('rankDirection') === 'higher-is-better' ? 'higher-is-better' : 'lower-is-better';
  }

  /** `.jsonl` documents up to this size are indexed as soon as they are opened. */
  get autoOpenMaxBytes(): number {
    const mb = this.get<number>('autoOpen.maxSizeMB') ?? 50;
    return Math.max(0, Math.min(mb * 1024 * 1024, DOCUMENT_SYNC_LIMIT_BYTES));
  }

  /** Milliseconds between the last edit and re-indexing the document. */
  get reindexDelayMs(): number {
    return Math.max(0, this.get<number>('reindexDelayMs') ?? 300);
  }

  /**
   * A setting as the user (or the remote machine) set it, else its default: never a workspace's
   * value. The judge's endpoint settings are `machine`-scoped in package.json, which already keeps
   * workspace settings.json from redirecting calls (and the key) elsewhere; reading them this way
   * makes that independent of the schema.
   */
  private userValue<T>(key: string): T | undefined {
    const i = vscode.workspace.getConfiguration(SECTION).inspect<T>(key);
    return i?.globalValue ?? i?.defaultValue;
  }

  // The judge (machine scope: user settings only).

  get judgeProvider(): JudgeProviderKind {
    return this.userValue<string>('judge.provider') === 'vscode-lm' ? 'vscode-lm' : 'openai-compatible';
  }

  /** OpenAI-compatible endpoint, e.g. `https://api.deepseek.com/v1`, `http://127.0.0.1:8000/v1`. */
  get judgeBaseUrl(): string | undefined {
    return text(this.userValue<string>('judge.baseUrl'));
  }

  get judgeModel(): string | undefined {
    return text(this.userValue<string>('judge.model'));
  }

  get judgeTemperature(): number {
    return nonNegative(this.userValue<number>('judge.temperature')) ?? 0;
  }

  get judgeMaxTokens(): number | undefined {
    const n = positive(this.userValue<number>('judge.maxTokens'));
    return n === undefined ? undefined : Math.floor(n);
  }

  /** Selector of the VS Code language model (`family`, e.g. `gpt-4o`); any model when empty. */
  get judgeVscodeLmFamily(): string | undefined {
    return text(this.userValue<string>('judge.vscodeLmFamily'));
  }

  // The labelling job.

  get labellingConcurrency(): number {
    return Math.floor(positive(this.get<number>('labelling.concurrency')) ?? 4);
  }

  /** Requests per minute; undefined = no limit. */
  get labellingRpm(): number | undefined {
    return positive(this.get<number>('labelling.rpm'));
  }

  /** Tokens per minute (estimated); undefined = no limit. */
  get labellingTpm(): number | undefined {
    return positive(this.get<number>('labelling.tpm'));
  }

  /** Longest wait before a retry, a server's Retry-After included. */
  get labellingMaxRetryWaitMs(): number {
    const seconds = positive(this.get<number>('labelling.maxRetryWaitSeconds')) ?? DEFAULT_MAX_RETRY_WAIT_SECONDS;
    return Math.min(seconds, MAX_RETRY_WAIT_SECONDS_LIMIT) * 1000;
  }

  /** One price for prompt and completion tokens, or `{prompt, completion}`; none = no cost shown. */
  get labellingPricing(): Pricing {
    const v = this.get<unknown>('labelling.pricePer1kTokens');
    if (typeof v === 'number') return { promptPer1k: nonNegative(v) };
    if (typeof v === 'object' && v !== null) {
      const o = v as { prompt?: unknown; completion?: unknown };
      return { promptPer1k: nonNegative(o.prompt), completionPer1k: nonNegative(o.completion) };
    }
    return {};
  }

  /** The prompt language when set explicitly; undefined: a templates file's own, else zh. */
  get labellingLang(): Lang | undefined {
    const i = vscode.workspace.getConfiguration(SECTION).inspect<string>('labelling.lang');
    const v = i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
    return v === 'zh' || v === 'en' ? v : undefined;
  }

  get labellingAttachHistory(): boolean {
    return this.get<boolean>('labelling.attachHistory') ?? false;
  }

  /** Path of a JSONC capability-points config (relative: to the dataset's folder, else the workspace). */
  get labellingPointsConfig(): string | undefined {
    return text(this.get<string>('labelling.pointsConfig'));
  }

  /** Path of a JSONC prompt-templates file (relative as `pointsConfig`). */
  get labellingTemplatesFile(): string | undefined {
    return text(this.get<string>('labelling.templatesFile'));
  }

  /** Folder of the label stores (relative: to the workspace folder); default `.rewardlens/` beside the dataset. */
  get labellingStoreDir(): string | undefined {
    return text(this.get<string>('labelling.storeDir'));
  }

  // Training.

  /** 'auto': PyTorch when set up, else the best TensorFlow.js backend that loads (tfjs-node-gpu, tfjs-node, wasm, cpu). */
  get trainingBackend(): TrainBackend {
    const v = this.get<string>('training.backend');
    return (TRAIN_BACKENDS as readonly string[]).includes(v ?? '') ? (v as TrainBackend) : 'auto';
  }

  /** The PyTorch trainer's interpreter as set by the user; undefined: the one Set Up PyTorch Training made. */
  get python(): string | undefined {
    return text(this.get<string>('python'));
  }

  /** The preset only where someone set it (user, workspace or folder); undefined lets the Train command recommend one. */
  get trainingPresetSet(): PresetName | undefined {
    const i = vscode.workspace.getConfiguration(SECTION).inspect<string>('training.preset');
    const v = i?.workspaceFolderValue ?? i?.workspaceValue ?? i?.globalValue;
    return (PRESET_NAMES as readonly string[]).includes(v ?? '') ? (v as PresetName) : undefined;
  }

  get trainingPreset(): PresetName {
    const v = this.get<string>('training.preset');
    return (PRESET_NAMES as readonly string[]).includes(v ?? '') ? (v as PresetName) : 'small';
  }

  /** Folder of new runs (relative: to the workspace folder); default `.rewardlens/runs/` beside the dataset. */
  get trainingRunsFolder(): string | undefined {
    return text(this.get<string>('training.runsFolder'));
  }

  /** Wall-clock budget of a run in minutes; undefined = none. */
  get trainingMaxMinutes(): number | undefined {
    return positive(this.get<number>('training.maxMinutes'));
  }

  // Scoring (docs/scoring-ui.md).

  /** Path of an exported MODEL.onnx (relative: to the first workspace folder); undefined = no scores shown. */
  get scoringModel(): string | undefined {
    return text(this.get<string>('scoring.model'));
  }

  /** onnxruntime intra-op threads; 0 = onnxruntime's default (all cores). */
  get scoringThreads(): number {
    return Math.floor(nonNegative(this.get<number>('scoring.threads')) ?? 0);
  }

  /** Settings whose change invalidates every index. */
  static readonly reindexOn: readonly string[] = [`${SECTION}.rankDirection`];

  static affects(e: vscode.ConfigurationChangeEvent, key: string): boolean {
    return e.affectsConfiguration(`${SECTION}.${key}`);
  }
}
