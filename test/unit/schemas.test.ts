import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import { parse } from 'jsonc-parser';
import { compileMapping } from '../../src/core/dataset/mapping';
import { compilePointsConfig } from '../../src/core/labelling/points';

// The JSON schemas package.json contributes through `jsonValidation` (editor completion and squiggles
// while typing) must accept what the loaders accept and reject what they reject, or users get red
// squiggles on working files / silence on broken ones.
const repoRoot = path.resolve(__dirname, '../../..');
const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
  contributes: { jsonValidation: { fileMatch: string | string[]; url: string }[] };
};

// strictRequired off: the schemas say "exactly one of" with {required, not: {required}} on properties declared above.
function schema(file: string): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
  return ajv.compile(JSON.parse(readFileSync(path.join(repoRoot, 'schemas', file), 'utf8')) as object);
}
const mappingSchema = schema('mapping.schema.json');
const pointsSchema = schema('points.schema.json');

function jsonc(text: string): unknown {
  return parse(text, [], { allowTrailingComma: true }) as unknown;
}

function agree(validate: ValidateFunction, compile: (text: string) => { ok: boolean }, text: string, expected: boolean, what: string): void {
  assert.equal(compile(text).ok, expected, `${what}: the loader ${expected ? 'rejects' : 'accepts'} it`);
  const valid = validate(jsonc(text));
  assert.equal(valid, expected, `${what}: the schema ${expected ? 'rejects' : 'accepts'} it: ${JSON.stringify(validate.errors)}`);
}

const mapping = (text: string) => compileMapping(text, 'test.mapping.jsonc');

void describe('JSON schemas of mapping and points files', () => {
  void it('are contributed for the file names the docs give (*.mapping.jsonc, *.points.jsonc, points.jsonc)', () => {
    const byUrl = new Map(manifest.contributes.jsonValidation.map((v) => [v.url, [v.fileMatch].flat()]));
    assert.deepEqual(byUrl.get('./schemas/mapping.schema.json'), ['*.mapping.jsonc', '*.mapping.json']);
    assert.deepEqual(byUrl.get('./schemas/points.schema.json'), ['*.points.jsonc', '*.points.json', 'points.jsonc', 'points.json']);
  });

  void it('accept every shipped mapping example', () => {
    const dir = path.join(repoRoot, 'docs/examples');
    const files = readdirSync(dir).filter((f) => f.endsWith('.mapping.jsonc'));
    assert.ok(files.length >= 3);
    for (const f of files) agree(mappingSchema, (t) => compileMapping(t, f), readFileSync(path.join(dir, f), 'utf8'), true, f);
  });

  void it('accept the shipped points configs (the demo model and the docs example)', () => {
    agree(pointsSchema, compilePointsConfig, readFileSync(path.join(repoRoot, 'models/demo/points.jsonc'), 'utf8'), true, 'models/demo/points.jsonc');
    const docs = readFileSync(path.join(repoRoot, 'docs/labelling.md'), 'utf8');
    const example = /### The points config[\s\S]*?```jsonc\n([\s\S]*?)```/.exec(docs)?.[1];
    assert.ok(example, 'docs/labelling.md has a points config example');
    agree(pointsSchema, compilePointsConfig, example, true, 'docs/labelling.md example');
  });

  void it('reject broken mapping files as the loader does', () => {
    const ok = '{"prompt": "q", "responses": ["a", "b"], "ranking": {"label": "w", "values": {"A": 1, "B": 2, "tie": "tie"}}}';
    agree(mappingSchema, mapping, ok, true, 'a minimal mapping');
    agree(mappingSchema, mapping, '{"responses": ["a", "b"]}', false, 'no prompt');
    agree(mappingSchema, mapping, '{"prompt": "q", "responses": ["a"], "promt": "x"}', false, 'a misspelt key');
    agree(mappingSchema, mapping, '{"prompt": "q", "responses": ["a"], "ranking": {"scores": "s", "ranks": "r"}}', false, 'two rankings');
    agree(mappingSchema, mapping, '{"prompt": "q", "responses": ["a"], "ranking": {"label": "w"}}', false, 'a label without values');
    agree(mappingSchema, mapping, '{"prompt": "q", "responses": ["a"], "ranking": {"label": "w", "values": {"A": 0}}}', false, 'response number 0');
    agree(mappingSchema, mapping, '{"groupBy": "id", "prompt": "q", "responses": ["a"]}', false, 'groupBy with responses');
    agree(mappingSchema, mapping, '{"prompt": {"messages": "m", "roles": {"bot": "robot"}}, "responses": ["a"]}', false, 'an unknown role');
    agree(mappingSchema, mapping, '{"prompt": "q", "responses": ["a"], "ratings": [{"source": "gpt-4"}]}', false, 'a rating without a path');
  });

  void it('reject broken points configs as the loader does', () => {
    agree(pointsSchema, compilePointsConfig, '{"inheritDefaults": "yes"}', false, 'a non-boolean inheritDefaults');
    agree(pointsSchema, compilePointsConfig, '{"uncategorised": "ignore"}', false, 'an unknown uncategorised policy');
    agree(pointsSchema, compilePointsConfig, '{"categories": {"x": {"points": ["bad/id"]}}}', false, 'an invalid point id');
    agree(pointsSchema, compilePointsConfig, '{"categories": {"x": {"points": [{"zh": "幽默感"}]}}}', false, 'a point without id');
    agree(pointsSchema, compilePointsConfig, '{"categories": {"x": {"pts": ["a"]}}}', false, 'a misspelt category key');
  });
});
