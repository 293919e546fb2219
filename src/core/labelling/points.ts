import { readFileSync } from 'node:fs';
import type { Node } from 'jsonc-parser';
import type { ConfigError } from '../jsonc';
import { Diagnostics, nodeKind, objectKeys, parseJsonc, stringValue } from '../jsonc';
import type { Lang } from './templates';

/**
 * Capability points per task category: what the inner experts of DMoERM learn from. The defaults are
 * the paper's Table 12 as in its reference code (prepare_data/config.py); point ids are the reference
 * code's, so exported `points.jsonl` files train with it unchanged. Users edit them in a JSONC file
 * (docs/labelling.md, "Capability points").
 */

export interface CapabilityPoint {
  /** Stable id, stored with every label and exported as `point` (e.g. `empathy_ability`). */
  id: string;
  /** Name put into the zh prompt (`【共情能力】`). */
  zh: string;
  /** Name put into the en prompt (`[empathy ability]`). */
  en: string;
}

export interface CategoryPoints {
  /** Canonical category name, as the record model uses it (`objective knowledge QA`). */
  name: string;
  zh: string;
  en: string;
  /** Other names the data may use for it (matched case-insensitively, like name, zh and en). */
  aliases: string[];
  points: CapabilityPoint[];
  /** False for sets that are not in the paper (the default `overall` set). */
  fromPaper: boolean;
}

export type UncategorisedPolicy = 'overall' | 'classify' | 'skip';

export interface PointsConfig {
  categories: CategoryPoints[];
  /**
   * Records with no category, or one no set matches: label them with the `overall` points, ask the
   * judge for their category first (router labels), or leave them out.
   */
  uncategorised: UncategorisedPolicy;
  /** Rating aspect → point id, for labels derived from ratings. Unlisted aspects map by name. */
  ratingAspects: Record<string, string>;
}

function p(id: string, zh: string, en = id.replace(/_/g, ' ')): CapabilityPoint {
  return { id, zh, en };
}

const paperCategories: CategoryPoints[] = [
  {
    name: 'roleplay',
    zh: '角色扮演',
    en: 'roleplay',
    aliases: ['role-play', 'role play'],
    fromPaper: true,
    points: [
      p('character_setting_and_emotional_investment', '人设和情感带入'),
      p('conversational_sense', '对话感'),
      p('empathy_ability', '共情能力'),
      p('manifestation_of_relationship_traits', '关系特点体现'),
      p('personalized_characteristic_expression', '个性化特征体现'),
      p('content_richness', '内容丰富性'),
    ],
  },
  {
    name: 'chitchat',
    zh: '闲聊',
    en: 'chitchat',
    aliases: ['chat', 'chit-chat'],
    fromPaper: true,
    points: [
      p('conversational_sense', '对话感'),
      p('proactivity', '主动性'),
      p('emotion_expression', '情感表达'),
      p('empathy_ability', '共情能力'),
      p('content_richness', '内容丰富性'),
    ],
  },
  {
    name: 'subjective knowledge QA',
    zh: '主观知识问答',
    en: 'subjective knowledge QA',
    aliases: ['subj_qa', 'subjective QA'],
    fromPaper: true,
    points: [
      p('convincing_ability', '说服力'),
      p('logic', '逻辑性'),
      p('viewpoint_richness', '观点丰富度'),
      p('breadth_of_knowledge', '知识面广度'),
      p('question_specific', '问题针对性'),
    ],
  },
  {
    name: 'objective knowledge QA',
    zh: '客观知识问答',
    en: 'objective knowledge QA',
    aliases: ['obj_qa', 'objective QA'],
    fromPaper: true,
    points: [
      p('correctness', '正确性'),
      p('objectiveness', '客观程度'),
      p('reasoning_ability', '推理能力'),
      p('logic', '逻辑性'),
      p('depth_of_knowledge', '知识面深度'),
      p('question_specific', '问题针对性'),
    ],
  },
  {
    name: 'text creation',
    zh: '文本创作',
    en: 'text creation',
    aliases: ['text', 'creative writing'],
    fromPaper: true,
    points: [
      p('intent_conformity', '意图符合程度'),
      p('expressiveness', '表达能力'),
      p('readability', '可读性'),
      p('content_richness', '内容丰富性'),
      p('logic', '逻辑性'),
    ],
  },
];

/**
 * NOT FROM THE PAPER: the points of a single inner MoE used without the outer router. The paper's
 * reference code lists only the five task categories; this set takes the points that recur across
 * them. Replace it in the points config when you know better.
 */
const overallCategory: CategoryPoints = {
  name: 'overall',
  zh: '综合',
  en: 'overall',
  aliases: [],
  fromPaper: false,
  points: [
    p('intent_conformity', '意图符合程度'),
    p('correctness', '正确性'),
    p('logic', '逻辑性'),
    p('content_richness', '内容丰富性'),
    p('readability', '可读性'),
  ],
};

export function defaultPointsConfig(): PointsConfig {
  return {
    categories: structuredClone([...paperCategories, overallCategory]),
    uncategorised: 'overall',
    ratingAspects: { Logicality: 'logic', 'Explanation Correctness': 'reasoning_ability' },
  };
}

/** The categories the judge may assign when classifying (every set but `overall`). */
export function classifiableCategories(config: PointsConfig): CategoryPoints[] {
  return config.categories.filter((c) => c.name !== 'overall');
}

const norm = (s: string): string =>
  s
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, ' ');

/** The set for a record's category name (name, zh, en or an alias, case-insensitive), or undefined. */
export function findCategory(config: PointsConfig, category: string | undefined): CategoryPoints | undefined {
  if (category === undefined) return undefined;
  const key = norm(category);
  return config.categories.find((c) => [c.name, c.zh, c.en, ...c.aliases].some((n) => norm(n) === key));
}

export function pointName(point: CapabilityPoint, lang: Lang): string {
  return lang === 'zh' ? point.zh : point.en;
}

export function categoryName(category: CategoryPoints, lang: Lang): string {
  return lang === 'zh' ? category.zh : category.en;
}

/** The point id a rating aspect becomes: the configured mapping, else the aspect name normalised (`Correctness` → `correctness`). */
export function pointForAspect(config: PointsConfig, aspect: string): string {
  const mapped = config.ratingAspects[aspect] ?? Object.entries(config.ratingAspects).find(([k]) => norm(k) === norm(aspect))?.[1];
  return mapped ?? norm(aspect).replace(/ /g, '_');
}

export type PointsResult = { ok: true; config: PointsConfig } | { ok: false; errors: ConfigError[] };

const validId = /^[A-Za-z0-9_][A-Za-z0-9_ .-]*$/;

/** Compiles a points config (JSONC). Every problem is reported with its line and column. */
export function compilePointsConfig(text: string): PointsResult {
  const d = new Diagnostics(text);
  const root = parseJsonc(text, d);
  if (root === undefined) return { ok: false, errors: d.errors };
  const keys = objectKeys(d, root, 'the points config', ['$schema', 'description', 'inheritDefaults', 'uncategorised', 'categories', 'ratingAspects']);
  if (keys === undefined) return { ok: false, errors: d.errors };
  const defaults = defaultPointsConfig();
  let inherit = true;
  const inheritNode = keys.get('inheritDefaults');
  if (inheritNode) {
    if (inheritNode.type === 'boolean') inherit = inheritNode.value as boolean;
    else d.at(inheritNode, `"inheritDefaults" must be true or false, not ${nodeKind(inheritNode)}`);
  }
  const config: PointsConfig = inherit ? defaults : { categories: [], uncategorised: 'skip', ratingAspects: {} };
  const knownPoints = new Map<string, CapabilityPoint>();
  for (const c of defaults.categories) for (const pt of c.points) knownPoints.set(pt.id, pt);

  const categoriesNode = keys.get('categories');
  if (categoriesNode) {
    const cats = objectKeys(d, categoriesNode, '"categories"');
    for (const [name, node] of cats ?? []) {
      const index = config.categories.findIndex((c) => c.name === name);
      if (node.type === 'null') {
        if (index >= 0) config.categories.splice(index, 1);
        continue;
      }
      const category = readCategory(d, name, node, knownPoints, index >= 0 ? config.categories[index] : undefined);
      if (category === undefined) continue;
      if (index >= 0) config.categories[index] = category;
      else config.categories.push(category);
    }
  }
  const policyNode = keys.get('uncategorised');
  if (policyNode) {
    const value = stringValue(d, policyNode, '"uncategorised"');
    if (value === 'overall' || value === 'classify' || value === 'skip') config.uncategorised = value;
    else if (value !== undefined) d.at(policyNode, `"uncategorised" must be "overall", "classify" or "skip", not "${value}"`);
  }
  if (config.uncategorised === 'overall' && !config.categories.some((c) => c.name === 'overall')) {
    d.at(policyNode ?? root, '"uncategorised" is "overall" but there is no "overall" category');
  }
  const aspectsNode = keys.get('ratingAspects');
  if (aspectsNode) {
    for (const [aspect, node] of objectKeys(d, aspectsNode, '"ratingAspects"') ?? []) {
      const id = stringValue(d, node, `"ratingAspects"."${aspect}"`);
      if (id !== undefined && !validId.test(id)) d.at(node, `"${id}" is not a valid point id (letters, digits, _ . - and spaces)`);
      else if (id !== undefined) config.ratingAspects[aspect] = id;
    }
  }
  if (d.errors.length > 0) return { ok: false, errors: d.errors };
  return { ok: true, config };
}

function readCategory(
  d: Diagnostics,
  name: string,
  node: Node,
  known: Map<string, CapabilityPoint>,
  base: CategoryPoints | undefined,
): CategoryPoints | undefined {
  const keys = objectKeys(d, node, `category "${name}"`, ['zh', 'en', 'aliases', 'points']);
  if (keys === undefined) return undefined;
  const category: CategoryPoints = base ? { ...base, fromPaper: false } : { name, zh: name, en: name, aliases: [], points: [], fromPaper: false };
  for (const lang of ['zh', 'en'] as const) {
    const n = keys.get(lang);
    if (n) category[lang] = stringValue(d, n, `"${lang}" of category "${name}"`) ?? category[lang];
  }
  const aliasesNode = keys.get('aliases');
  if (aliasesNode) {
    if (aliasesNode.type !== 'array') d.at(aliasesNode, `"aliases" of category "${name}" must be a list of strings`);
    else category.aliases = (aliasesNode.children ?? []).map((a) => stringValue(d, a, 'an alias')).filter((a): a is string => a !== undefined);
  }
  const pointsNode = keys.get('points');
  if (pointsNode === undefined && base === undefined) d.at(node, `category "${name}" needs "points"`);
  if (pointsNode) {
    if (pointsNode.type !== 'array') {
      d.at(pointsNode, `"points" of category "${name}" must be a list, not ${nodeKind(pointsNode)}`);
      return undefined;
    }
    const points: CapabilityPoint[] = [];
    for (const item of pointsNode.children ?? []) {
      const pt = readPoint(d, item, known);
      if (pt === undefined) continue;
      if (points.some((q) => q.id === pt.id)) d.at(item, `point "${pt.id}" is listed twice in category "${name}"`);
      else points.push(pt);
    }
    if (points.length === 0 && (pointsNode.children ?? []).length === 0) d.at(pointsNode, `category "${name}" has no points`);
    category.points = points;
  }
  // Unchanged paper sets stay marked as the paper's.
  if (base?.fromPaper && JSON.stringify(category.points) === JSON.stringify(base.points)) category.fromPaper = true;
  return category;
}

/** `"empathy_ability"` (a known point by id, or a new one named the same in both languages) or `{id, zh, en}`. */
function readPoint(d: Diagnostics, node: Node, known: Map<string, CapabilityPoint>): CapabilityPoint | undefined {
  if (node.type === 'string') {
    const id = stringValue(d, node, 'a point');
    if (id === undefined) return undefined;
    if (!validId.test(id)) {
      d.at(node, `"${id}" is not a valid point id (letters, digits, _ . - and spaces); give {"id", "zh", "en"} for other names`);
      return undefined;
    }
    return known.get(id) ?? { id, zh: id, en: id.replace(/_/g, ' ') };
  }
  const keys = objectKeys(d, node, 'a point', ['id', 'zh', 'en']);
  if (keys === undefined) return undefined;
  const idNode = keys.get('id');
  if (idNode === undefined) {
    d.at(node, 'a point needs "id"');
    return undefined;
  }
  const id = stringValue(d, idNode, '"id"');
  if (id === undefined) return undefined;
  if (!validId.test(id)) {
    d.at(idNode, `"${id}" is not a valid point id (letters, digits, _ . - and spaces)`);
    return undefined;
  }
  const base = known.get(id);
  const zh = keys.get('zh') ? stringValue(d, keys.get('zh')!, '"zh"') : (base?.zh ?? id);
  const en = keys.get('en') ? stringValue(d, keys.get('en')!, '"en"') : (base?.en ?? id.replace(/_/g, ' '));
  if (zh === undefined || en === undefined) return undefined;
  return { id, zh, en };
}

export function loadPointsConfig(path: string): PointsResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, errors: [{ line: 1, column: 1, message: `cannot read the points config: ${(e as Error).message}` }] };
  }
  return compilePointsConfig(text);
}
