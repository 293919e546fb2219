import type { CategoryPoints, PointsConfig } from './points';
import { categoryName, classifiableCategories } from './points';
import type { PromptTemplates } from './templates';
import { renderClassify } from './templates';

/**
 * Router labels: a record without a category is shown to the judge with the category names of the
 * prompt's language, and the reply is read like a verdict — the category whose name (any of its
 * names, case-insensitive) occurs first in it; the longest name wins at the same position
 * ("subjective knowledge QA" over "objective knowledge QA" inside it cannot happen: it starts earlier).
 */

export function classifyPrompt(t: PromptTemplates, config: PointsConfig, query: string): string {
  return renderClassify(
    t,
    classifiableCategories(config).map((c) => categoryName(c, t.lang)),
    query,
  );
}

export function parseCategory(reply: string, config: PointsConfig): CategoryPoints | undefined {
  const text = reply.toLowerCase();
  let best: { at: number; length: number; category: CategoryPoints } | undefined;
  for (const category of classifiableCategories(config)) {
    for (const name of new Set([category.name, category.zh, category.en, ...category.aliases])) {
      const at = text.indexOf(name.toLowerCase());
      if (at < 0) continue;
      if (!best || at < best.at || (at === best.at && name.length > best.length)) best = { at, length: name.length, category };
    }
  }
  return best?.category;
}
