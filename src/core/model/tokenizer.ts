/**
 * Text → token ids. For BERT-family encoders `[CLS] context [SEP] response [SEP]` (token types 0 then 1)
 * for scoring, `[CLS] text [SEP]` for the router; for decoder LMs (`style: 'decoder'`) `context \n
 * response <eos>` and `text <eos>`, whose last token is the one a decoder reward model reads. Wraps
 * `@huggingface/tokenizers`, whose ids match the Rust `tokenizers` library for the same tokenizer.json; the
 * specials and the truncation are done here, not by the file's post-processor, so that truncation can
 * keep the most recent context.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { FileError } from '../io/file-error';
import { readJsonFile } from '../io/input-file';

export interface Encoded {
  ids: Int32Array;
  typeIds: Int32Array;
}

/** Token ids of the specials; -1 for one a decoder's tokenizer does not have. */
export interface SpecialIds {
  cls: number;
  sep: number;
  pad: number;
  unk: number;
  /** Decoders: appended to every sequence when the tokenizer has one. */
  eos?: number;
}

/** How sequences are laid out: for a BERT-family encoder, or for a decoder LM. */
export type SequenceStyle = 'bert' | 'decoder';

/** Where the shipped tokenizer sits below the models folder. */
const DEFAULT_TOKENIZER = join('tokenizers', 'bert-base-chinese', 'tokenizer.json');
/** dist/ bundles, .test-tmp/unit and src/core/model all sit at most this many folders below the root. */
const MAX_WALK_UP = 6;
/**
 * First guess of how many characters hold a given number of tokens (tokenizeTail/Head double it until
 * enough): a Chinese character is one token, an English wordpiece about four characters with its space.
 */
const WINDOW_CHARS_PER_TOKEN = 6;
const WINDOW_SLACK = 64;

export class TextTokenizer {
  readonly vocabSize: number;

  private static readonly cache = new Map<string, TextTokenizer>();

  /** Decoders: the tokens between context and response (a line break). */
  private readonly joint: number[];

  private constructor(
    readonly file: string,
    private readonly tok: Tokenizer,
    readonly special: Readonly<SpecialIds>,
    readonly style: SequenceStyle,
  ) {
    let max = -1;
    for (const id of tok.get_vocab(true).values()) if (id > max) max = id;
    this.vocabSize = max + 1;
    this.joint = style === 'decoder' ? this.tokenize('\n') : [];
  }

  /** Tokens a reward-model input holds besides context and response. */
  get pairOverhead(): number {
    return this.style === 'bert' ? 3 : this.joint.length + this.eosCount;
  }

  /** Tokens a router input holds besides its text. */
  get singleOverhead(): number {
    return this.style === 'bert' ? 2 : this.eosCount;
  }

  private get eosCount(): number {
    return this.special.eos === undefined ? 0 : 1;
  }

  /**
   * Loads a tokenizer.json, with the tokenizer_config.json beside it when there is one. `special` gives
   * the decoder specials a run or an export recorded (the config file is not copied with the tokenizer).
   */
  static fromFile(file: string, style: SequenceStyle = 'bert', special?: SpecialIds): TextTokenizer {
    const json = readJsonFile(file, 'tokenizer');
    const configFile = join(dirname(file), 'tokenizer_config.json');
    const config = existsSync(configFile) ? readJsonFile(configFile, 'tokenizer config') : {};
    if (!isObject(json)) throw new FileError(file, `not a tokenizer.json (expected a JSON object)`);
    if (!isObject(config)) throw new FileError(configFile, `not a tokenizer config (expected a JSON object)`);
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, config);
    } catch (e) {
      throw new FileError(file, `cannot load the tokenizer (${(e as Error).message})`);
    }
    const model = isObject(json.model) ? json.model : {};
    if (style === 'decoder') return new TextTokenizer(resolve(file), tok, special ?? decoderSpecials(tok, config, model), style);
    const ids: SpecialIds = special ?? {
      cls: specialId(tok, file, 'CLS', tokenName(config.cls_token) ?? '[CLS]'),
      sep: specialId(tok, file, 'SEP', tokenName(config.sep_token) ?? '[SEP]'),
      pad: specialId(tok, file, 'PAD', tokenName(config.pad_token) ?? '[PAD]'),
      unk: specialId(tok, file, 'UNK', tokenName(model.unk_token) ?? tokenName(config.unk_token) ?? '[UNK]'),
    };
    return new TextTokenizer(resolve(file), tok, ids, style);
  }

  /**
   * The shipped bilingual tokenizer (bert-base-chinese), loaded once per process. Found under
   * REWARDLENS_MODELS_DIR when set, else in a `models/` folder above this bundle (dist/, .test-tmp/unit,
   * the packaged extension and the sources all have one above them).
   */
  static default(): TextTokenizer {
    const file = defaultTokenizerFile();
    let tokenizer = TextTokenizer.cache.get(file);
    if (!tokenizer) {
      tokenizer = TextTokenizer.fromFile(file);
      TextTokenizer.cache.set(file, tokenizer);
    }
    return tokenizer;
  }

  /** Ids of `text` without special tokens. */
  tokenize(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  /**
   * The last `count` tokens of `text` (all when it has fewer), tokenizing only as much of its end as
   * needed: contexts can be far longer than any model input. Exact, because the text is cut only at a word
   * boundary (after whitespace or before a CJK character, each a token of its own), where BERT's
   * tokenization splits anyway.
   */
  tokenizeTail(text: string, count: number): number[] {
    if (count <= 0) return [];
    for (let window = count * WINDOW_CHARS_PER_TOKEN + WINDOW_SLACK; ; window *= 2) {
      if (window >= text.length) return this.tokenize(text).slice(-count);
      let cut = text.length - window;
      while (cut < text.length && !this.isBoundary(text, cut)) cut++;
      if (cut === text.length) continue;
      const ids = this.tokenize(text.slice(cut));
      if (ids.length >= count) return ids.slice(-count);
    }
  }

  /** The first `count` tokens of `text`, tokenizing only as much of its start as needed (see tokenizeTail). */
  tokenizeHead(text: string, count: number): number[] {
    if (count <= 0) return [];
    for (let window = count * WINDOW_CHARS_PER_TOKEN + WINDOW_SLACK; ; window *= 2) {
      if (window >= text.length) return this.tokenize(text).slice(0, count);
      let cut = window;
      while (cut > 0 && !this.isBoundary(text, cut)) cut--;
      if (cut === 0) continue;
      const ids = this.tokenize(text.slice(0, cut));
      if (ids.length >= count) return ids.slice(0, count);
    }
  }

  /** The token strings of `ids` (for display and debugging). */
  tokens(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id) => this.tok.id_to_token(id) ?? `<${id}>`);
  }

  /** Whether cutting `text` before `text[i]` leaves the tokens on either side as they are in the whole. */
  private isBoundary(text: string, i: number): boolean {
    if (this.style === 'bert') return isBertBoundary(text, i);
    // Byte-level BPE pre-tokenizers (GPT-2, Qwen2, Llama 3) start a word with the space before it.
    return isSpace(text.charCodeAt(i)) && !isSpace(text.charCodeAt(i - 1));
  }

  /** `[CLS] context [SEP] response [SEP]` (decoders: `context \n response <eos>`), truncated to `maxLen` as `encodePairIds`. */
  encodePair(context: string, response: string, maxLen: number): Encoded {
    // Neither side can use more than the whole budget, so longer inputs need not be tokenized.
    const budget = checkMaxLen(maxLen, this.pairOverhead) - this.pairOverhead;
    return this.encodePairIds(this.tokenizeTail(context, budget), this.tokenizeHead(response, budget), maxLen);
  }

  /**
   * `[CLS] context [SEP] response [SEP]` from already tokenized texts (a record's context is tokenized
   * once for all its responses). When too long, the context keeps its end (the most recent turns, which
   * the response answers) and the response its start; the response gets at least half of `maxLen` when
   * both are long, and either side gets what the other leaves unused. Hugging Face's default
   * (`longest_first`) cuts both from the end instead: the two agree whenever the context fits.
   */
  encodePairIds(context: readonly number[], response: readonly number[], maxLen: number): Encoded {
    const budget = checkMaxLen(maxLen, this.pairOverhead) - this.pairOverhead;
    let ctxKeep = context.length;
    let respKeep = response.length;
    if (ctxKeep + respKeep > budget) {
      respKeep = Math.min(respKeep, Math.max(Math.min(budget, Math.floor(maxLen / 2)), budget - ctxKeep));
      ctxKeep = Math.min(ctxKeep, budget - respKeep);
    }
    if (this.style === 'decoder') return this.decoderSequence([...context.slice(context.length - ctxKeep), ...this.joint, ...response.slice(0, respKeep)]);
    const n = ctxKeep + respKeep + 3;
    const ids = new Int32Array(n);
    const typeIds = new Int32Array(n);
    ids[0] = this.special.cls;
    for (let i = 0; i < ctxKeep; i++) ids[1 + i] = context[context.length - ctxKeep + i];
    ids[ctxKeep + 1] = this.special.sep;
    const respAt = ctxKeep + 2;
    for (let i = 0; i < respKeep; i++) ids[respAt + i] = response[i];
    ids[n - 1] = this.special.sep;
    typeIds.fill(1, respAt);
    return { ids, typeIds };
  }

  /** A decoder's input: the tokens, then <eos> when the tokenizer has one; one token type. */
  private decoderSequence(tokens: number[]): Encoded {
    if (this.special.eos !== undefined) tokens.push(this.special.eos);
    return { ids: Int32Array.from(tokens), typeIds: new Int32Array(tokens.length) };
  }

  /** `[CLS] text [SEP]`, keeping the end of `text` when too long (the router reads the latest input). */
  encodeSingle(text: string, maxLen: number): Encoded {
    return this.encodeSingleIds(this.tokenizeTail(text, checkMaxLen(maxLen, this.singleOverhead) - this.singleOverhead), maxLen);
  }

  encodeSingleIds(text: readonly number[], maxLen: number): Encoded {
    const keep = Math.min(text.length, checkMaxLen(maxLen, this.singleOverhead) - this.singleOverhead);
    if (this.style === 'decoder') return this.decoderSequence(text.slice(text.length - keep));
    const ids = new Int32Array(keep + 2);
    ids[0] = this.special.cls;
    for (let i = 0; i < keep; i++) ids[1 + i] = text[text.length - keep + i];
    ids[keep + 1] = this.special.sep;
    return { ids, typeIds: new Int32Array(keep + 2) };
  }
}

/** The shipped tokenizer's path, or an error saying where it was looked for. */
export function defaultTokenizerFile(): string {
  const fromEnv = process.env.REWARDLENS_MODELS_DIR;
  if (fromEnv) {
    const file = join(fromEnv, DEFAULT_TOKENIZER);
    if (!existsSync(file)) throw new FileError(file, `not found (REWARDLENS_MODELS_DIR is ${fromEnv})`);
    return file;
  }
  for (let dir = __dirname, up = 0; up <= MAX_WALK_UP; dir = dirname(dir), up++) {
    const file = join(dir, 'models', DEFAULT_TOKENIZER);
    if (existsSync(file)) return file;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`models/${DEFAULT_TOKENIZER.replace(/\\/g, '/')} not found in any folder above ${__dirname}; set REWARDLENS_MODELS_DIR to the models folder`);
}

/** Whether a cut before `text[i]` falls between two words of BERT's pre-tokenization. */
function isBertBoundary(text: string, i: number): boolean {
  const prev = text.charCodeAt(i - 1);
  const next = text.charCodeAt(i);
  // Whitespace before the cut ends a word; a CJK ideograph after it starts one (the normalizer spaces it).
  return isSpace(prev) || (next >= 0x4e00 && next <= 0x9fff);
}

function isSpace(c: number): boolean {
  return (
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) ||
    c === 0xa0 ||
    c === 0x3000 ||
    c === 0x2028 ||
    c === 0x2029 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x1680 ||
    c === 0x202f ||
    c === 0x205f
  );
}

function checkMaxLen(maxLen: number, specials: number): number {
  if (!Number.isInteger(maxLen) || maxLen <= specials || maxLen < 2) {
    throw new RangeError(`maxLen must be an integer above ${specials} (the special tokens alone take ${specials}); got ${maxLen}`);
  }
  return maxLen;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** tokenizer_config.json writes special tokens as strings or, in older files, as `{content: …}`. */
function tokenName(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

/**
 * A decoder's specials from tokenizer_config.json: eos_token ends every sequence; the padding id is
 * pad_token, else eos (padding is masked, any id would do, but it must be a real row of the table).
 */
function decoderSpecials(tok: Tokenizer, config: Record<string, unknown>, model: Record<string, unknown>): SpecialIds {
  const id = (v: unknown): number | undefined => {
    const name = tokenName(v);
    return name === undefined ? undefined : tok.token_to_id(name);
  };
  const eos = id(config.eos_token);
  return {
    cls: -1,
    sep: -1,
    pad: id(config.pad_token) ?? eos ?? 0,
    unk: id(model.unk_token) ?? id(config.unk_token) ?? -1,
    ...(eos === undefined ? {} : { eos }),
  };
}

function specialId(tok: Tokenizer, file: string, role: string, token: string): number {
  const id = tok.token_to_id(token);
  if (id === undefined)
    throw new FileError(file, `the ${role} token ${token} is not in the vocabulary (a BERT-style tokenizer with [CLS], [SEP], [PAD] and [UNK] is needed)`);
  return id;
}
