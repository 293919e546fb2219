import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
// The ESM build, because esbuild (platform node) otherwise picks the UMD build, whose dynamic
// require('./impl/format') the bundle cannot resolve at run time.
import { parse, parseTree, printParseErrorCode } from 'jsonc-parser';
import type { Node, ParseError } from 'jsonc-parser';
import { defaultAdapterOptions } from './adapter';
import type { Adapter, AdapterOptions } from './adapter';
import { parseFieldPath } from './adapters/field-path';
import type { FieldPath } from './adapters/field-path';
import { mappedAdapter } from './adapters/mapped';
import type {
  Aggregate,
  CategorySpec,
  MappingSpec,
  MetadataSpec,
  PromptSpec,
  RankingSpec,
  RatingSpec,
  ResponsesSpec,
  RowResponseSpec,
} from './adapters/mapping-spec';
import { defaultRoleNames } from './adapters/turns';
import type { Role } from './record';
import type { ConfigError } from '../jsonc';
import { Diagnostics, formatConfigErrors, nodeKind, objectKeys, stringValue, syntaxMessage } from '../jsonc';

/**
 * Field-mapping files (`*.jsonc`, reference in docs/mapping-file.md): how to read a dataset no
 * built-in adapter recognises. Every problem is reported at the line and column of the offending
 * node, so editors and the CLI can point at it.
 */

export type { MappingSpec } from './adapters/mapping-spec';

export type MappingError = ConfigError;

export type MappingResult = { ok: true; adapter: Adapter; spec: MappingSpec } | { ok: false; errors: MappingError[] };

export const formatMappingErrors = formatConfigErrors;

export function loadMappingFile(path: string, options?: Partial<AdapterOptions>): MappingResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return { ok: false, errors: [{ line: 1, column: 1, message: `cannot read the mapping file: ${(e as Error).message}` }] };
  }
  return compileMapping(text, path, options);
}

export function compileMapping(text: string, fileName: string, options?: Partial<AdapterOptions>): MappingResult {
  const adapterOptions: AdapterOptions = { ...defaultAdapterOptions, ...options };
  const diagnostics = new Diagnostics(text);
  const parseErrors: ParseError[] = [];
  parse(text, parseErrors, { allowTrailingComma: true });
  for (const error of parseErrors) diagnostics.at(error.offset, syntaxMessage(printParseErrorCode(error.error)));
  if (parseErrors.length > 0) return { ok: false, errors: diagnostics.errors };
  const root = parseTree(text, [], { allowTrailingComma: true });
  if (root === undefined) return { ok: false, errors: [{ line: 1, column: 1, message: 'the mapping file is empty' }] };
  const spec = new SpecReader(diagnostics, adapterOptions).read(root, defaultName(fileName));
  if (spec === undefined || diagnostics.errors.length > 0) return { ok: false, errors: diagnostics.errors };
  return { ok: true, adapter: mappedAdapter(spec, adapterOptions), spec };
}

function defaultName(fileName: string): string {
  return basename(fileName).replace(/(\.mapping)?\.jsonc?$/, '');
}

const roles: readonly Role[] = ['system', 'user', 'assistant'];

/** Reads the syntax tree into a MappingSpec, reporting every problem it meets rather than the first. */
class SpecReader {
  constructor(
    private readonly d: Diagnostics,
    private readonly options: AdapterOptions,
  ) {}

  read(root: Node, fallbackName: string): MappingSpec | undefined {
    const keys = this.object(root, 'the mapping', [
      '$schema',
      'name',
      'description',
      'groupBy',
      'system',
      'prompt',
      'responses',
      'response',
      'ranking',
      'ratings',
      'category',
      'metadata',
    ]);
    if (keys === undefined) return undefined;
    const name = keys.has('name') ? this.string(keys.get('name')!, '"name"') : fallbackName;
    if (keys.has('description')) this.string(keys.get('description')!, '"description"');
    const groupBy = keys.has('groupBy') ? this.path(keys.get('groupBy')!, '"groupBy"') : undefined;
    const system = keys.has('system') ? this.path(keys.get('system')!, '"system"') : undefined;
    const prompt = keys.has('prompt') ? this.prompt(keys.get('prompt')!) : this.missing(root, 'prompt');

    let responses: ResponsesSpec | undefined;
    let response: RowResponseSpec | undefined;
    if (keys.has('groupBy')) {
      if (keys.has('responses')) this.d.at(keys.get('responses')!.parent!, 'with "groupBy" each row holds one response: use "response", not "responses"');
      response = keys.has('response') ? this.rowResponse(keys.get('response')!) : this.missing(root, 'response', ' (the response of each row, with "groupBy")');
    } else {
      if (keys.has('response'))
        this.d.at(keys.get('response')!.parent!, '"response" is for pointwise rows with "groupBy"; use "responses" (a list of paths) here');
      responses = keys.has('responses') ? this.responses(keys.get('responses')!) : this.missing(root, 'responses');
    }
    const ranking = keys.has('ranking') ? this.ranking(keys.get('ranking')!, keys.has('groupBy')) : undefined;
    const ratingsNode = keys.get('ratings');
    const ratings = ratingsNode ? this.ratings(ratingsNode) : [];
    if (ratingsNode && !keys.has('groupBy') && responses?.kind === 'paths') {
      this.d.at(ratingsNode.parent!, '"ratings" need "groupBy" (paths in each row) or "responses" as {"path": …} (paths in each response element)');
    }
    const category = keys.has('category') ? this.category(keys.get('category')!) : undefined;
    const metadata = keys.has('metadata') ? this.metadata(keys.get('metadata')!) : [];
    if (name === undefined || prompt === undefined || (responses === undefined && response === undefined)) return undefined;
    const spec: MappingSpec = { name: `mapping:${name}`, prompt, ratings, metadata };
    if (groupBy) spec.groupBy = groupBy;
    if (system) spec.system = system;
    if (responses) spec.responses = responses;
    if (response) spec.response = response;
    if (ranking) spec.ranking = ranking;
    if (category) spec.category = category;
    return spec;
  }

  private missing(node: Node, key: string, detail = ''): undefined {
    this.d.at(node, `missing required key "${key}"${detail}`);
    return undefined;
  }

  private object(node: Node, what: string, allowed: readonly string[]): Map<string, Node> | undefined {
    return objectKeys(this.d, node, what, allowed);
  }

  private string(node: Node, what: string): string | undefined {
    return stringValue(this.d, node, what, false);
  }

  private path(node: Node, what: string): FieldPath | undefined {
    const text = this.string(node, `${what} (a field path)`);
    if (text === undefined) return undefined;
    const parsed = parseFieldPath(text);
    if (parsed.ok) return parsed.path;
    // Point into the string: +1 steps over the opening quote (exact unless the path has escapes).
    this.d.at(node.offset + 1 + parsed.at, `invalid field path in ${what}: ${parsed.message}`);
    return undefined;
  }

  private pathList(node: Node, what: string): FieldPath[] | undefined {
    if (node.type !== 'array' || (node.children ?? []).length === 0) {
      this.d.at(node, `${what} must be a non-empty list of field paths`);
      return undefined;
    }
    const paths = (node.children ?? []).map((child, i) => this.path(child, `${what} entry ${i + 1}`));
    return paths.every((p): p is FieldPath => p !== undefined) ? paths : undefined;
  }

  private prompt(node: Node): PromptSpec | undefined {
    if (node.type === 'string') {
      const path = this.path(node, '"prompt"');
      return path && { kind: 'text', paths: [path] };
    }
    if (node.type === 'array') {
      const paths = this.pathList(node, '"prompt"');
      return paths && { kind: 'text', paths };
    }
    const keys = this.object(node, '"prompt"', ['messages', 'role', 'content', 'roles']);
    if (keys === undefined) return undefined;
    if (!keys.has('messages')) return this.missing(node, 'messages', ' (the path of the message list)');
    const path = this.path(keys.get('messages')!, '"prompt.messages"');
    const role = keys.has('role') ? this.string(keys.get('role')!, '"prompt.role"') : 'role';
    const content = keys.has('content') ? this.string(keys.get('content')!, '"prompt.content"') : 'content';
    const roleNames = keys.has('roles') ? this.roleNames(keys.get('roles')!) : {};
    if (path === undefined || role === undefined || content === undefined || roleNames === undefined) return undefined;
    return { kind: 'messages', path, role, content, roles: { ...defaultRoleNames, ...roleNames } };
  }

  private roleNames(node: Node): Record<string, Role> | undefined {
    if (node.type !== 'object') {
      this.d.at(node, `"prompt.roles" must be an object mapping role names to system, user or assistant, not ${nodeKind(node)}`);
      return undefined;
    }
    const names: Record<string, Role> = {};
    let ok = true;
    for (const property of node.children ?? []) {
      const [keyNode, valueNode] = property.children ?? [];
      if (keyNode === undefined || valueNode === undefined) continue;
      if (valueNode.type !== 'string' || !roles.includes(valueNode.value as Role)) {
        this.d.at(
          valueNode,
          `role "${String(keyNode.value)}" must map to "system", "user" or "assistant", not ${JSON.stringify(valueNode.value) ?? nodeKind(valueNode)}`,
        );
        ok = false;
      } else names[keyNode.value as string] = valueNode.value as Role;
    }
    return ok ? names : undefined;
  }

  private responses(node: Node): ResponsesSpec | undefined {
    if (node.type === 'array') {
      const paths = this.pathList(node, '"responses"');
      return paths && { kind: 'paths', paths };
    }
    if (node.type !== 'object') {
      this.d.at(node, `"responses" must be a list of field paths or {"path": …, "text": …}, not ${nodeKind(node)}`);
      return undefined;
    }
    const keys = this.object(node, '"responses"', ['path', 'text', 'model']);
    if (keys === undefined) return undefined;
    if (!keys.has('path')) return this.missing(node, 'path', ' (the path of the list of responses)');
    const path = this.path(keys.get('path')!, '"responses.path"');
    const text = keys.has('text') ? this.path(keys.get('text')!, '"responses.text"') : undefined;
    const model = keys.has('model') ? this.path(keys.get('model')!, '"responses.model"') : undefined;
    if (path === undefined || (keys.has('text') && !text) || (keys.has('model') && !model)) return undefined;
    return { kind: 'list', path, ...(text ? { text } : {}), ...(model ? { model } : {}) };
  }

  private rowResponse(node: Node): RowResponseSpec | undefined {
    if (node.type === 'string') {
      const text = this.path(node, '"response"');
      return text && { text };
    }
    const keys = this.object(node, '"response"', ['text', 'model']);
    if (keys === undefined) return undefined;
    if (!keys.has('text')) return this.missing(node, 'text', ' (the path of the response text)');
    const text = this.path(keys.get('text')!, '"response.text"');
    const model = keys.has('model') ? this.path(keys.get('model')!, '"response.model"') : undefined;
    if (text === undefined || (keys.has('model') && !model)) return undefined;
    return model ? { text, model } : { text };
  }

  private ranking(node: Node, grouped: boolean): RankingSpec | undefined {
    const keys = this.object(node, '"ranking"', ['scores', 'aggregate', 'ranks', 'direction', 'label', 'values', 'order']);
    if (keys === undefined) return undefined;
    const kinds = (['scores', 'ranks', 'label', 'order'] as const).filter((k) => keys.has(k));
    if (kinds.length !== 1) {
      this.d.at(node, `"ranking" needs exactly one of "scores", "ranks", "label" or "order"${kinds.length > 1 ? ` (found ${kinds.join(', ')})` : ''}`);
      return undefined;
    }
    const kind = kinds[0];
    const misplaced = (key: string, belongs: string): void => {
      if (keys.has(key) && kind !== belongs) this.d.at(keys.get(key)!.parent!, `"${key}" belongs with "${belongs}", not "${kind}"`);
    };
    misplaced('aggregate', 'scores');
    misplaced('direction', 'ranks');
    misplaced('values', 'label');
    if ((kind === 'label' || kind === 'order') && grouped) {
      this.d.at(
        keys.get(kind)!.parent!,
        `${kind === 'order' ? 'an' : 'a'} "${kind}" ranking compares the responses of one record; it cannot be used with "groupBy"`,
      );
      return undefined;
    }
    if (kind === 'order') {
      // Pairs named chosen/reject, better/worse, pos/neg carry no label: their order is the preference.
      const order = this.oneOf(keys.get('order')!, '"ranking.order"', ['best-first']);
      return order === undefined ? undefined : { kind, order: 'best-first' };
    }
    const path = this.path(keys.get(kind)!, `"ranking.${kind}"`);
    if (kind === 'scores') {
      const aggregate = keys.has('aggregate') ? this.oneOf(keys.get('aggregate')!, '"ranking.aggregate"', ['sum', 'mean']) : undefined;
      if (path === undefined || (keys.has('aggregate') && aggregate === undefined)) return undefined;
      return aggregate ? { kind, path, aggregate: aggregate as Aggregate } : { kind, path };
    }
    if (kind === 'ranks') {
      const direction = keys.has('direction')
        ? this.oneOf(keys.get('direction')!, '"ranking.direction"', ['lower-is-better', 'higher-is-better'])
        : this.options.rankDirection;
      if (path === undefined || direction === undefined) return undefined;
      return { kind, path, direction: direction as 'lower-is-better' | 'higher-is-better' };
    }
    if (!keys.has('values')) return this.missing(node, 'values', ' (label value → winning response number or "tie", e.g. {"0": 1, "1": 2, "2": "tie"})');
    const values = this.labelValues(keys.get('values')!);
    return path && values && { kind, path, values };
  }

  private labelValues(node: Node): Record<string, number | 'tie'> | undefined {
    if (node.type !== 'object' || (node.children ?? []).length === 0) {
      this.d.at(node, `"ranking.values" must be a non-empty object mapping label values to a response number or "tie"`);
      return undefined;
    }
    const values: Record<string, number | 'tie'> = {};
    let ok = true;
    for (const property of node.children ?? []) {
      const [keyNode, valueNode] = property.children ?? [];
      if (keyNode === undefined || valueNode === undefined) continue;
      const v: unknown = valueNode.value;
      if (v === 'tie' || (typeof v === 'number' && Number.isInteger(v) && v >= 1)) values[keyNode.value as string] = v;
      else {
        this.d.at(
          valueNode,
          `label "${String(keyNode.value)}" must map to a response number (1, 2, …) or "tie", not ${JSON.stringify(v) ?? nodeKind(valueNode)}`,
        );
        ok = false;
      }
    }
    return ok ? values : undefined;
  }

  private oneOf(node: Node, what: string, allowed: readonly string[]): string | undefined {
    if (node.type === 'string' && allowed.includes(node.value as string)) return node.value as string;
    this.d.at(node, `${what} must be one of ${allowed.map((a) => `"${a}"`).join(', ')}, not ${JSON.stringify(node.value) ?? nodeKind(node)}`);
    return undefined;
  }

  private ratings(node: Node): RatingSpec[] {
    const items = node.type === 'array' ? (node.children ?? []) : [node];
    const specs: RatingSpec[] = [];
    items.forEach((item, i) => {
      const what = node.type === 'array' ? `"ratings" entry ${i + 1}` : '"ratings"';
      const keys = this.object(item, what, ['path', 'source', 'aspect']);
      if (keys === undefined) return;
      if (!keys.has('path')) {
        this.missing(item, 'path', ' (the path of an {aspect: score} object or of one numeric score)');
        return;
      }
      const path = this.path(keys.get('path')!, `${what} path`);
      const source = keys.has('source') ? this.string(keys.get('source')!, `${what} source`) : 'human';
      const aspect = keys.has('aspect') ? this.string(keys.get('aspect')!, `${what} aspect`) : undefined;
      if (source !== undefined && source.trim() === '') this.d.at(keys.get('source')!, `${what} source must not be empty`);
      if (path && source && (!keys.has('aspect') || aspect)) specs.push(aspect ? { path, source, aspect } : { path, source });
    });
    return specs;
  }

  private category(node: Node): CategorySpec | undefined {
    if (node.type === 'string') {
      const path = this.path(node, '"category"');
      return path && { path };
    }
    const keys = this.object(node, '"category"', ['path', 'values']);
    if (keys === undefined) return undefined;
    if (!keys.has('path')) return this.missing(node, 'path');
    const path = this.path(keys.get('path')!, '"category.path"');
    let values: Record<string, string> | undefined;
    const valuesNode = keys.get('values');
    if (valuesNode) {
      if (valuesNode.type !== 'object')
        this.d.at(valuesNode, `"category.values" must be an object mapping values to category names, not ${nodeKind(valuesNode)}`);
      else {
        values = {};
        for (const property of valuesNode.children ?? []) {
          const [keyNode, valueNode] = property.children ?? [];
          if (keyNode === undefined || valueNode === undefined) continue;
          const name = this.string(valueNode, `category value "${String(keyNode.value)}"`);
          if (name !== undefined) values[keyNode.value as string] = name;
        }
      }
    }
    return path && (values ? { path, values } : { path });
  }

  private metadata(node: Node): MetadataSpec[] {
    if (node.type === 'array') {
      return (node.children ?? []).flatMap((child, i) => {
        const path = this.path(child, `"metadata" entry ${i + 1}`);
        return path ? [{ name: path.text, path }] : [];
      });
    }
    if (node.type !== 'object') {
      this.d.at(node, `"metadata" must be an object (name → field path) or a list of field paths, not ${nodeKind(node)}`);
      return [];
    }
    const specs: MetadataSpec[] = [];
    for (const property of node.children ?? []) {
      const [keyNode, valueNode] = property.children ?? [];
      if (keyNode === undefined || valueNode === undefined) continue;
      const name = keyNode.value as string;
      const what = `metadata "${name}"`;
      if (valueNode.type === 'string') {
        const path = this.path(valueNode, what);
        if (path) specs.push({ name, path });
        continue;
      }
      const keys = this.object(valueNode, what, ['path', 'match']);
      if (keys === undefined) continue;
      if (!keys.has('path')) {
        this.missing(valueNode, 'path');
        continue;
      }
      const path = this.path(keys.get('path')!, `${what} path`);
      let match: RegExp | undefined;
      const matchNode = keys.get('match');
      if (matchNode) {
        const source = this.string(matchNode, `${what} match`);
        if (source !== undefined) {
          try {
            match = new RegExp(source, 'u');
          } catch (e) {
            this.d.at(matchNode, `${what} match is not a valid regular expression: ${(e as Error).message}`);
          }
        }
      }
      if (path && (!matchNode || match)) specs.push(match ? { name, path, match } : { name, path });
    }
    return specs;
  }
}
