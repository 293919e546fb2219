/**
 * What the reward breakdown panel shows of one scored record. Pure, no `vscode`: the panel gathers the
 * record and the score, this lays them out, and the unit tests check the layout without a host.
 */
import type { PreferenceRecord } from '../../core/dataset/record';
import type { ExportManifest } from '../../core/export/manifest';
import { humanVerdict } from '../../core/scoring/best-of-n';
import type { ModelRecordScore } from '../../core/scoring/session';
import { humanPairs } from '../../core/training/pairs';
import type { BreakdownData, BreakdownRow } from '../../../webview/reward-breakdown-protocol';
import { formatPreference } from '../presentation/format';

export interface BreakdownInput {
  uri: string;
  dataset: string;
  index: number;
  line: number;
  record: PreferenceRecord;
  score: ModelRecordScore;
  manifest: Pick<ExportManifest, 'method' | 'categories' | 'ensemble'>;
  modelFile: string;
  modelName: string;
  /** `vscode.env.language`: capability points are named in Chinese when it starts with `zh`. */
  language: string;
}

/** The UI language of the names the model carries (its manifest has zh and en names only). */
export function uiLanguage(language: string): 'en' | 'zh' {
  return language.toLowerCase().startsWith('zh') ? 'zh' : 'en';
}

/** 1 + the number of strictly higher rewards: the model's best is 1, equal rewards share a rank. */
export function rewardRanks(rewards: readonly number[]): number[] {
  return rewards.map((r) => 1 + rewards.filter((o) => o > r).length);
}

export function buildBreakdown(input: BreakdownInput): BreakdownData {
  const { record, score, manifest } = input;
  const language = uiLanguage(input.language);
  const { pairs } = humanPairs(record, 0);
  const human = humanVerdict(record);
  const ranks = rewardRanks(score.logits);
  const columns = score.logits.map((reward, i) => {
    const mine = pairs.filter((p) => p.winner === i || p.loser === i);
    return {
      index: i,
      humanRank: human.ranks[i],
      reward,
      rewardRank: ranks[i],
      agree: mine.filter((p) => score.logits[p.winner] > score.logits[p.loser]).length,
      pairs: mine.length,
      humanBest: human.best.includes(i),
      modelTop: ranks[i] === 1,
    };
  });
  const capabilities: BreakdownRow[] = (score.capabilities ?? []).map((c) => {
    const [label, alternative] = language === 'zh' ? [c.zh || c.en, c.en] : [c.en || c.zh, c.zh];
    return { key: c.point, label: label || c.point, alternative: alternative && alternative !== label ? alternative : undefined, scores: c.scores };
  });
  const memberNames = manifest.ensemble?.members ?? [];
  const members: BreakdownRow[] = (score.members ?? []).map((rewards, k) => ({
    key: `member-${k}`,
    label: memberNames[k] ?? `member ${k + 1}`,
    scores: rewards,
  }));
  const data: BreakdownData = {
    uri: input.uri,
    dataset: input.dataset,
    index: input.index,
    line: input.line,
    id: record.id,
    category: record.category,
    model: {
      name: input.modelName,
      file: input.modelFile,
      method: manifest.method,
      ...(manifest.ensemble ? { ensemble: { members: manifest.ensemble.members, aggregation: manifest.ensemble.aggregation } } : {}),
    },
    columns,
    capabilities,
    members,
    agreement: { agree: pairs.filter((p) => score.logits[p.winner] > score.logits[p.loser]).length, pairs: pairs.length },
    preference: formatPreference(record),
    context: record.context,
    responses: record.responses.map((r) => ({ text: r.text, model: r.model, ratings: r.ratings ?? [] })),
    language,
  };
  if (score.category !== undefined && score.probabilities !== undefined) {
    const categories = manifest.categories
      .map((name, k) => ({ name, probability: score.probabilities![k] ?? Number.NaN }))
      .sort((a, b) => b.probability - a.probability);
    data.router = { chosen: score.category, categories };
  }
  return data;
}
