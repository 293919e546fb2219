import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyPrompt, parseCategory } from '../../../src/core/labelling/category-labels';
import { approxTokens, priced } from '../../../src/core/labelling/estimate';
import { compilePointsConfig, defaultPointsConfig, findCategory, pointForAspect } from '../../../src/core/labelling/points';
import { pairCount, recordTasks, setupTag } from '../../../src/core/labelling/tasks';
import { DEFAULT_TEMPLATES, compileTemplates, fill, renderPairwise, splitContext } from '../../../src/core/labelling/templates';
import { mergeOrders, parseVerdict } from '../../../src/core/labelling/verdict';
import type { PreferenceRecord } from '../../../src/core/dataset/record';

void describe('labelling protocol', () => {
  void it("renders the paper's zh and en prompts exactly, without history by default", () => {
    const input = { point: '共情能力', query: '你好', response1: '你好呀', response2: '嗯' };
    assert.equal(
      renderPairwise(DEFAULT_TEMPLATES.zh, input),
      '给定提问和两个回复，判断回复1和回复2在【共情能力】方面哪个更好。\n【提问】：你好\n【回复1】：你好呀\n【回复2】：嗯',
    );
    assert.equal(
      renderPairwise(DEFAULT_TEMPLATES.en, { point: 'empathy ability', query: 'Hi', response1: 'Hello!', response2: 'Hm.' }),
      'Given a query and two responses, determine which of response 1 and response 2 is better in terms of [empathy ability].\n[Query]: Hi\n[Response 1]: Hello!\n[Response 2]: Hm.',
    );
    const withHistory = renderPairwise(DEFAULT_TEMPLATES.zh, {
      ...input,
      history: [
        { role: 'user', content: '我是小明' },
        { role: 'assistant', content: '你好小明' },
      ],
    });
    assert.equal(
      withHistory,
      '给定提问和两个回复，判断回复1和回复2在【共情能力】方面哪个更好。\n【对话历史】：\n用户：我是小明\n助手：你好小明\n【提问】：你好\n【回复1】：你好呀\n【回复2】：嗯',
    );
  });

  void it('fills placeholders in one pass: text containing {query} stays literal', () => {
    assert.equal(fill('{a}|{b}|{c}', { a: '{b}', b: 'x' }), '{b}|x|{c}');
    const p = renderPairwise(DEFAULT_TEMPLATES.en, { point: 'p', query: 'q {response2}', response1: '{point}', response2: 'r2' });
    assert.ok(p.includes('[Query]: q {response2}') && p.includes('[Response 1]: {point}'));
  });

  void it('takes the final user turn as the query and the turns before as history', () => {
    const { query, history } = splitContext([
      { role: 'system', content: 's' },
      { role: 'user', content: 'u1' },
      { role: 'assistant', content: 'a1' },
      { role: 'user', content: 'u2' },
    ]);
    assert.equal(query, 'u2');
    assert.deepEqual(
      history.map((t) => t.content),
      ['s', 'u1', 'a1'],
    );
  });

  void it('parses the verdict as the first of "1" or "2"', () => {
    const cases: [string, 1 | 2 | null][] = [
      ['1', 1],
      ['2', 2],
      ['回复2更好。', 2],
      ['Response 1 is better than response 2', 1],
      ['Response 2 beats 1', 2],
      ['10 points to the second', 1],
      ['', null],
      ['两个都差不多', null],
      ['Neither; both are fine.', null],
      ['response two', null],
    ];
    for (const [reply, verdict] of cases) assert.equal(parseVerdict(reply), verdict, reply);
  });

  void it('keeps only consistent verdicts of both orders', () => {
    assert.deepEqual(mergeOrders(1, 2, 0, 3), { result: 'consistent', winner: 0 });
    assert.deepEqual(mergeOrders(2, 1, 0, 3), { result: 'consistent', winner: 3 });
    assert.deepEqual(mergeOrders(1, 1, 0, 3), { result: 'inconsistent', winner: null });
    assert.deepEqual(mergeOrders(2, 2, 0, 3), { result: 'inconsistent', winner: null });
    assert.deepEqual(mergeOrders(null, 1, 0, 3), { result: 'invalid', winner: null });
    assert.deepEqual(mergeOrders(2, null, 0, 3), { result: 'invalid', winner: null });
  });

  void it("ships the paper's Table 12 points and finds categories by any name", () => {
    const c = defaultPointsConfig();
    assert.deepEqual(
      c.categories.map((x) => x.name),
      ['roleplay', 'chitchat', 'subjective knowledge QA', 'objective knowledge QA', 'text creation', 'overall'],
    );
    assert.deepEqual(
      findCategory(c, 'roleplay')!.points.map((p) => p.zh),
      ['人设和情感带入', '对话感', '共情能力', '关系特点体现', '个性化特征体现', '内容丰富性'],
    );
    assert.equal(findCategory(c, '客观知识问答')!.name, 'objective knowledge QA');
    assert.equal(findCategory(c, 'obj_qa')!.name, 'objective knowledge QA');
    assert.equal(findCategory(c, 'Subjective Knowledge QA')!.name, 'subjective knowledge QA');
    assert.equal(findCategory(c, 'Grammarly'), undefined);
    assert.equal(c.categories.find((x) => x.name === 'overall')!.fromPaper, false);
    assert.ok(c.categories.filter((x) => x.name !== 'overall').every((x) => x.fromPaper));
    assert.equal(pointForAspect(c, 'Correctness'), 'correctness');
    assert.equal(pointForAspect(c, 'Logicality'), 'logic');
    assert.equal(pointForAspect(c, 'Explanation Correctness'), 'reasoning_ability');
    assert.equal(pointForAspect(c, 'Fluency'), 'fluency');
  });

  void it('reads a points config: overrides, removals, new categories, aspect maps', () => {
    const r = compilePointsConfig(`{
      // only two categories changed
      "categories": {
        "chitchat": { "points": ["empathy_ability", { "id": "humour", "zh": "幽默感", "en": "humour" }] },
        "roleplay": null,
        "code": { "zh": "代码", "aliases": ["coding"], "points": ["correctness"] },
      },
      "uncategorised": "classify",
      "ratingAspects": { "Accuracy": "correctness" },
    }`);
    assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
    const c = r.config;
    assert.deepEqual(findCategory(c, 'chitchat')!.points, [
      { id: 'empathy_ability', zh: '共情能力', en: 'empathy ability' },
      { id: 'humour', zh: '幽默感', en: 'humour' },
    ]);
    assert.equal(findCategory(c, 'chitchat')!.fromPaper, false);
    assert.equal(findCategory(c, 'roleplay'), undefined);
    assert.equal(findCategory(c, 'coding')!.points[0].zh, '正确性');
    assert.equal(c.uncategorised, 'classify');
    assert.equal(pointForAspect(c, 'accuracy'), 'correctness');
  });

  void it('reports config errors at their line and column', () => {
    const r = compilePointsConfig(
      '{\n  "categories": {\n    "chitchat": { "points": [ 3, "a|b" ] },\n    "x": { "pointz": [] }\n  },\n  "uncategorised": "never"\n}',
    );
    assert.ok(!r.ok);
    assert.deepEqual(
      r.errors.map((e) => `${e.line}:${e.column}: ${e.message}`),
      [
        '3:31: a point must be an object, not a number',
        '3:34: "a|b" is not a valid point id (letters, digits, _ . - and spaces); give {"id", "zh", "en"} for other names',
        '4:12: unknown key "pointz" in category "x" (expected one of: zh, en, aliases, points)',
        '4:10: category "x" needs "points"',
        '6:20: "uncategorised" must be "overall", "classify" or "skip", not "never"',
      ],
    );
    const syntax = compilePointsConfig('{ "categories": { ');
    assert.ok(!syntax.ok);
    assert.equal(syntax.errors[0].line, 1);
  });

  void it('reads user templates: version required, placeholders checked, defaults filled in', () => {
    const ok = compileTemplates(
      '{ "version": "mine-1", "lang": "en", "pairwise": "Which is better at {point}? Q: {query}\\nA: {response1}\\nB: {response2}" }',
    );
    assert.ok(ok.ok);
    assert.equal(ok.templates.version, 'mine-1');
    assert.equal(ok.templates.classify, DEFAULT_TEMPLATES.en.classify);
    assert.equal(ok.warnings.length, 1, 'no {history}: warned');
    const bad = compileTemplates('{\n  "lang": "fr",\n  "pairwise": "{point} {query}"\n}');
    assert.ok(!bad.ok);
    assert.deepEqual(
      bad.errors.map((e) => `${e.line}:${e.column}: ${e.message}`),
      [
        '1:1: missing required key "version" (stored with every label; change it whenever the wording changes)',
        '2:11: "lang" must be "zh" or "en", not "fr"',
        '3:15: "pairwise" must contain {response1}, {response2}',
      ],
    );
    const reused = compileTemplates('{ "version": "dmoerm-zh-1" }');
    assert.ok(!reused.ok);
  });

  void it('enumerates C(k,2) pairs × points × 2 orders deterministically, with stable keys', () => {
    const record: PreferenceRecord = { id: 'abcd', context: [{ role: 'user', content: 'q' }], responses: ['a', 'b', 'c', 'd'].map((text) => ({ text })) };
    const category = findCategory(defaultPointsConfig(), 'chitchat')!;
    const tag = setupTag({ model: 'm', templateVersion: 'dmoerm-zh-1', lang: 'zh', history: false });
    const tasks = [...recordTasks(tag, 7, record, category)];
    assert.equal(tasks.length, pairCount(4) * 5 * 2);
    assert.equal(new Set(tasks.map((t) => t.key)).size, tasks.length);
    assert.deepEqual(
      tasks.slice(0, 3).map((t) => t.key),
      [
        'm|dmoerm-zh-1|zh|h0|abcd|0-1|conversational_sense|ab',
        'm|dmoerm-zh-1|zh|h0|abcd|0-1|conversational_sense|ba',
        'm|dmoerm-zh-1|zh|h0|abcd|0-1|proactivity|ab',
      ],
    );
    assert.deepEqual([...recordTasks(tag, 7, record, category)], tasks);
    assert.ok(tasks.every((t) => t.a < t.b));
  });

  void it('approximates tokens: 1 per CJK character, 1 per 4 other characters', () => {
    assert.equal(approxTokens(''), 0);
    assert.equal(approxTokens('abcd'), 1);
    assert.equal(approxTokens('abcde'), 2);
    assert.equal(approxTokens('你好，世界'), 5);
    assert.equal(approxTokens('你好 world'), 2 + 2);
    assert.equal(approxTokens('𠀀'), 1);
    assert.deepEqual(priced({ calls: 10, promptTokens: 2000, completionTokens: 500 }, { promptPer1k: 0.01, completionPer1k: 0.03 }).cost!.toFixed(4), '0.0350');
    assert.equal(priced({ calls: 1, promptTokens: 1, completionTokens: 1 }, {}).cost, undefined);
  });

  void it('classifies with the category names and parses the first category named', () => {
    const c = defaultPointsConfig();
    assert.equal(
      classifyPrompt(DEFAULT_TEMPLATES.zh, c, '今天天气怎么样'),
      '给定提问，判断它属于以下哪个类别：角色扮演、闲聊、主观知识问答、客观知识问答、文本创作。只回答类别名称。\n【提问】：今天天气怎么样',
    );
    assert.equal(parseCategory('这个属于闲聊。', c)!.name, 'chitchat');
    assert.equal(parseCategory('Category: subjective knowledge QA (not objective knowledge QA)', c)!.name, 'subjective knowledge QA');
    assert.equal(parseCategory('I am not sure', c), undefined);
  });
});
