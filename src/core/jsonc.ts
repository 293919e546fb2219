import { parseTree, printParseErrorCode } from 'jsonc-parser';
import type { Node, ParseError } from 'jsonc-parser';

/**
 * Reading the project's JSONC files (mapping files, capability points, prompt templates): comments
 * and trailing commas allowed, every problem reported at its line and column (1-based, UTF-16 code
 * units as editors count).
 */

export interface ConfigError {
  line: number;
  column: number;
  message: string;
}

export function formatConfigErrors(fileName: string, errors: readonly ConfigError[]): string[] {
  return errors.map((e) => `${fileName}:${e.line}:${e.column}: ${e.message}`);
}

const syntaxMessages: Record<string, string> = {
  InvalidSymbol: 'invalid symbol',
  InvalidNumberFormat: 'invalid number',
  PropertyNameExpected: 'property name expected (keys must be double-quoted)',
  ValueExpected: 'value expected',
  ColonExpected: '":" expected',
  CommaExpected: '"," expected',
  CloseBraceExpected: '"}" expected',
  CloseBracketExpected: '"]" expected',
  EndOfFileExpected: 'end of file expected (only one top-level object)',
  InvalidCommentToken: 'invalid comment',
  UnexpectedEndOfComment: 'unterminated comment',
  UnexpectedEndOfString: 'unterminated string',
  UnexpectedEndOfNumber: 'unterminated number',
  InvalidUnicode: 'invalid unicode escape',
  InvalidEscapeCharacter: 'invalid escape character',
  InvalidCharacter: 'invalid character in string',
};

export function syntaxMessage(code: string): string {
  return `syntax error: ${syntaxMessages[code] ?? code}`;
}

/** Collects errors at offsets or nodes of one text. */
export class Diagnostics {
  readonly errors: ConfigError[] = [];
  private readonly lineStarts: number[] = [0];

  constructor(text: string) {
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') this.lineStarts.push(i + 1);
  }

  at(where: Node | number, message: string): void {
    const offset = typeof where === 'number' ? where : where.offset;
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    this.errors.push({ line: lo + 1, column: offset - this.lineStarts[lo] + 1, message });
  }
}

/** The syntax tree, or syntax errors (already in `d`). */
export function parseJsonc(text: string, d: Diagnostics): Node | undefined {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true });
  for (const e of errors) d.at(e.offset, syntaxMessage(printParseErrorCode(e.error)));
  if (errors.length > 0) return undefined;
  if (root === undefined) d.at(0, 'the file is empty');
  return root;
}

export function nodeKind(node: Node): string {
  switch (node.type) {
    case 'object':
      return 'an object';
    case 'array':
      return 'a list';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    default:
      return 'null';
  }
}

/** An object's properties; unknown and duplicate keys are reported at the key. */
export function objectKeys(d: Diagnostics, node: Node, what: string, allowed?: readonly string[]): Map<string, Node> | undefined {
  if (node.type !== 'object') {
    d.at(node, `${what} must be an object, not ${nodeKind(node)}`);
    return undefined;
  }
  const keys = new Map<string, Node>();
  for (const property of node.children ?? []) {
    const [keyNode, valueNode] = property.children ?? [];
    if (keyNode === undefined || valueNode === undefined) continue;
    const key = keyNode.value as string;
    if (allowed && !allowed.includes(key))
      d.at(keyNode, `unknown key "${key}" in ${what} (expected one of: ${allowed.filter((k) => !k.startsWith('$')).join(', ')})`);
    else if (keys.has(key)) d.at(keyNode, `duplicate key "${key}" in ${what}`);
    else keys.set(key, valueNode);
  }
  return keys;
}

export function stringValue(d: Diagnostics, node: Node, what: string, nonEmpty = true): string | undefined {
  if (node.type !== 'string') {
    d.at(node, `${what} must be a string, not ${nodeKind(node)}`);
    return undefined;
  }
  const value = node.value as string;
  if (nonEmpty && value.trim() === '') {
    d.at(node, `${what} must not be empty`);
    return undefined;
  }
  return value;
}
