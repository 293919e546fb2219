import { setMaxListeners } from 'node:events';
import { EditApplier } from '../curation/apply';
import type { JournalContents } from '../curation/journal';
import type { Dataset } from '../dataset/dataset';
import type { PreferenceRecord, Turn } from '../dataset/record';
import { classifyPrompt, parseCategory } from './category-labels';
import type { Clock } from './clock';
import { realClock } from './clock';
import type { CostEstimate, Pricing } from './estimate';
import { addCalls, approxTokens, emptyEstimate, priced } from './estimate';
import type { CategoryPoints, PointsConfig } from './points';
import { classifiableCategories, findCategory, pointName } from './points';
import type { JudgeProvider, JudgeReply } from './provider';
import { JudgeError, isAbort } from './provider';
import { TokenBucket } from './rate-limit';
import type { RetryPolicy } from './retry';
import { withRetry } from './retry';
import type { CallLine, CategoryLine, LabelLine, StoreContents } from './store';
import { LabelStore, storedReply } from './store';
import type { PairTask } from './tasks';
import { categoryKeyOf, pairCount, recordTasks, setupTag, taskKeyOf } from './tasks';
import type { PromptTemplates } from './templates';
import { renderPairwise, splitContext } from './templates';
import { mergeOrders, parseVerdict, winnerOf } from './verdict';
import { errorMessage } from '../error-message';

/**
 * A labelling job: every pair of responses of every selected record, for every capability point of the
 * record's category, asked in both orders (tasks.ts), through a pool of concurrent calls under
 * per-minute limits, with retries, each result appended to the store the moment it arrives.
 * Resumable: calls whose key is stored are never made again. Cancellable through `signal`.
 *
 * Records without a known category first go through a classification phase when the points config
 * says `uncategorised: "classify"`.
 */

export interface LabelJobOptions {
  dataset: Dataset;
  /**
   * The dataset's edits journal, applied as records are read (training's EditApplier): a dropped record
   * is not labelled. Absent: the file as it is (`--no-edits`). Applying edits never changes a record's id,
   * so stored calls and labels match whichever way the file is read.
   */
  edits?: JournalContents;
  provider: JudgeProvider;
  /** The store file (store.ts `storeFileFor`). */
  store: string;
  points: PointsConfig;
  templates: PromptTemplates;
  /** Put the turns before the final user turn into the prompt (`{history}`); the paper does not. */
  attachHistory?: boolean;
  /** Calls in flight at once. Default 4. */
  concurrency?: number;
  /** Requests per minute; unlimited when undefined. */
  rpm?: number;
  /** Tokens per minute (estimated prompt + completion); unlimited when undefined. */
  tpm?: number;
  retry?: Partial<RetryPolicy>;
  /** Label only the first N records. */
  limitRecords?: number;
  /** Make at most N new calls in this run (the rest stays for the next). */
  maxCalls?: number;
  pricing?: Pricing;
  /** Give up the job after this many calls in a row failed for good. Default 20. */
  maxConsecutiveFailures?: number;
  signal?: AbortSignal;
  onEvent?: (event: JobEvent) => void;
  clock?: Clock;
  random?: () => number;
}

export interface LabelPlan {
  store: string;
  setup: string;
  provider: string;
  model: string;
  template: string;
  records: {
    /** Records in the dataset. */
    total: number;
    /** Records within `limitRecords`. */
    selected: number;
    /** Selected records that will be labelled (usable, ≥ 2 responses, with a category or to be classified). */
    labelled: number;
    unusable: number;
    /** Records the edits journal drops. */
    dropped: number;
    fewerThanTwoResponses: number;
    /** Records with no category and none to give them (`uncategorised: "skip"`, or unparsed classification). */
    skipped: number;
    /** Records that the classification phase still has to ask about. */
    toClassify: number;
    byCategory: Record<string, number>;
  };
  /** The selected records: every call, stored or not. */
  planned: CostEstimate;
  /** What this run will still pay for (planned minus stored, capped by maxCalls). */
  remaining: CostEstimate;
  alreadyStored: number;
  /** The whole dataset, whatever `limitRecords` and `maxCalls` say. */
  full: CostEstimate;
  /** True when some point calls depend on classifications not made yet (estimated with the mean number of points). */
  approximate: boolean;
  /** Edits of the selected records made on another version of them: not applied (their records are labelled as they are). */
  staleEdits: number;
}

export type JobStatus = 'completed' | 'cancelled' | 'failed' | 'max-calls';

export interface JobSummary {
  status: JobStatus;
  store: string;
  setup: string;
  /** Calls made and stored in this run. */
  calls: number;
  /** Calls that failed for good in this run (not stored: the next run asks again). */
  failedCalls: number;
  retries: number;
  /** Calls of the selected records found in the store and not repeated. */
  alreadyStored: number;
  /** Calls of the selected records still not stored after this run. */
  remaining: number;
  promptTokens: number;
  completionTokens: number;
  /** What this run's calls cost at the job's pricing (their counted tokens); absent without a price. */
  cost?: number;
  elapsedMs: number;
  error?: string;
}

export type JobPhase = 'classify' | 'label';

/** Everything a job reports while it runs, discriminated by `type`. */
export type JobEvent =
  | { type: 'plan'; plan: LabelPlan }
  | { type: 'phase'; phase: JobPhase; total: number; alreadyStored: number }
  | {
      type: 'progress';
      phase: JobPhase;
      done: number;
      total: number;
      calls: number;
      failedCalls: number;
      inFlight: number;
      consistent: number;
      inconsistent: number;
      invalid: number;
      promptTokens: number;
      completionTokens: number;
    }
  /** `requestedMs`: the server's Retry-After, when it asked for longer than the cap (`retry.maxWaitMs`) and the wait was cut to it. */
  | { type: 'retry'; key: string; attempt: number; delayMs: number; requestedMs?: number; reason: string }
  | { type: 'call-failed'; key: string; message: string }
  | { type: 'error'; message: string }
  | { type: 'done'; summary: JobSummary };

interface Selected {
  index: number;
  record: PreferenceRecord;
  /** Undefined: still to be classified. Null: skipped. */
  category: CategoryPoints | undefined | null;
}

function setupOf(o: Pick<LabelJobOptions, 'provider' | 'templates' | 'attachHistory'>): string {
  return setupTag({ model: o.provider.model, templateVersion: o.templates.version, lang: o.templates.lang, history: o.attachHistory ?? false });
}

/** Reads the selected records, curated when `o.edits` is given, with the category each one gets. */
function* selectRecords(
  o: LabelJobOptions,
  setup: string,
  categories: Map<string, CategoryLine>,
  counts?: LabelPlan['records'],
  all = false,
  applier = o.edits ? new EditApplier(o.edits) : undefined,
): Generator<Selected> {
  const n = all ? o.dataset.size : Math.min(o.dataset.size, o.limitRecords ?? Infinity);
  for (let index = 0; index < n; index++) {
    const read = o.dataset.read(index).record;
    if (counts) counts.selected++;
    if (!read) {
      if (counts) counts.unusable++;
      continue;
    }
    const record = applier ? applier.apply(read, o.dataset.raw(index)).record : read;
    if (!record) {
      if (counts) counts.dropped++;
      continue;
    }
    if (record.responses.length < 2) {
      if (counts) counts.fewerThanTwoResponses++;
      continue;
    }
    let category: CategoryPoints | undefined | null = findCategory(o.points, record.category);
    if (category === undefined) {
      if (o.points.uncategorised === 'overall') category = findCategory(o.points, 'overall') ?? null;
      else if (o.points.uncategorised === 'skip') category = null;
      else {
        const stored = categories.get(categoryKeyOf(setup, record.id));
        if (stored) category = stored.category === null ? null : (findCategory(o.points, stored.category) ?? null);
      }
    }
    if (counts) {
      if (category === null) counts.skipped++;
      else {
        counts.labelled++;
        if (category === undefined) counts.toClassify++;
        else counts.byCategory[category.name] = (counts.byCategory[category.name] ?? 0) + 1;
      }
    }
    if (category !== null) yield { index, record, category };
  }
}

/** Prompt tokens of every call of one record and category (closed form: no prompt is rendered per call). */
function recordPromptTokens(t: PromptTemplates, record: PreferenceRecord, category: CategoryPoints, history: boolean): number {
  const k = record.responses.length;
  const { query, history: turns } = splitContext(record.context);
  const q = approxTokens(query) + (history ? approxTokens(renderPairwise(t, { point: '', query: '', response1: '', response2: '', history: turns })) : 0);
  const sumResponses = record.responses.reduce((s, r) => s + approxTokens(r.text), 0);
  let total = 0;
  for (const point of category.points) {
    const fixed = approxTokens(renderPairwise(t, { point: pointName(point, t.lang), query: '', response1: '', response2: '' }));
    total += 2 * (pairCount(k) * (fixed + (history ? q : approxTokens(query))) + (k - 1) * sumResponses);
  }
  return total;
}

/** The estimate shown before a job starts: calls, tokens and cost, for this run and for the whole dataset. */
export function planLabelJob(o: LabelJobOptions, stored?: StoreContents): LabelPlan {
  const setup = setupOf(o);
  const pricing = o.pricing ?? {};
  const storeContents = stored;
  const categories = storeContents?.categories ?? new Map<string, CategoryLine>();
  const calls = storeContents?.calls ?? new Map<string, CallLine>();
  const records: LabelPlan['records'] = {
    total: o.dataset.size,
    selected: 0,
    labelled: 0,
    unusable: 0,
    dropped: 0,
    fewerThanTwoResponses: 0,
    skipped: 0,
    toClassify: 0,
    byCategory: {},
  };
  const classifiable = classifiableCategories(o.points);
  const meanPoints = classifiable.length ? classifiable.reduce((s, c) => s + c.points.length, 0) / classifiable.length : 0;
  const planned = emptyEstimate();
  const remaining = emptyEstimate();
  let alreadyStored = 0;
  let approximate = false;
  const estimateRecord = (sel: Selected, into: CostEstimate[], countStored: boolean): void => {
    const k = sel.record.responses.length;
    if (sel.category === undefined || sel.category === null) {
      approximate = true;
      // Classification call, then the mean number of points.
      const { query } = splitContext(sel.record.context);
      for (const e of into) addCalls(e, 1, approxTokens(classifyPrompt(o.templates, o.points, query)), pricing);
      const perPoint = 2 * (pairCount(k) * approxTokens(query) + (k - 1) * sel.record.responses.reduce((s, r) => s + approxTokens(r.text), 0));
      for (const e of into) addCalls(e, Math.round(pairCount(k) * 2 * meanPoints), Math.round(perPoint * meanPoints), pricing);
      return;
    }
    const n = pairCount(k) * sel.category.points.length * 2;
    const tokens = recordPromptTokens(o.templates, sel.record, sel.category, o.attachHistory ?? false);
    for (const e of into) addCalls(e, n, tokens, pricing);
    if (countStored && calls.size > 0) {
      let storedHere = 0;
      for (const task of recordTasks(setup, sel.index, sel.record, sel.category)) if (calls.has(task.key)) storedHere++;
      alreadyStored += storedHere;
      if (storedHere < n) addCalls(remaining, n - storedHere, Math.round((tokens * (n - storedHere)) / n), pricing);
    } else if (countStored) addCalls(remaining, n, tokens, pricing);
  };
  const seen = new Set<string>();
  const applier = o.edits ? new EditApplier(o.edits) : undefined;
  for (const sel of selectRecords(o, setup, categories, records, false, applier)) {
    if (seen.has(sel.record.id)) continue; // the same record twice in a file is labelled once
    seen.add(sel.record.id);
    estimateRecord(sel, [planned], true);
    if (sel.category === undefined) {
      const { query } = splitContext(sel.record.context);
      addCalls(remaining, 1, approxTokens(classifyPrompt(o.templates, o.points, query)), pricing);
    }
  }
  // Remaining work of unclassified records is approximate too.
  if (records.toClassify > 0) {
    const extra = emptyEstimate();
    for (const sel of selectRecords(o, setup, categories)) if (sel.category === undefined) estimateRecord(sel, [extra], false);
    addCalls(remaining, extra.calls - records.toClassify, extra.promptTokens, { completionTokensPerCall: pricing.completionTokensPerCall });
  }
  let full = planned;
  if ((o.limitRecords ?? Infinity) < o.dataset.size) {
    full = emptyEstimate();
    const seenAll = new Set<string>();
    for (const sel of selectRecords(o, setup, categories, undefined, true)) {
      if (seenAll.has(sel.record.id)) continue;
      seenAll.add(sel.record.id);
      estimateRecord(sel, [full], false);
    }
  }
  let remainingCapped = remaining;
  if (o.maxCalls !== undefined && remaining.calls > o.maxCalls) {
    const f = o.maxCalls / remaining.calls;
    remainingCapped = { calls: o.maxCalls, promptTokens: Math.round(remaining.promptTokens * f), completionTokens: Math.round(remaining.completionTokens * f) };
  }
  return {
    store: o.store,
    setup,
    provider: o.provider.id,
    model: o.provider.model,
    template: o.templates.version,
    records,
    planned: priced(planned, pricing),
    remaining: priced(remainingCapped, pricing),
    alreadyStored,
    full: priced(full, pricing),
    approximate,
    staleEdits: applier?.stale.length ?? 0,
  };
}

/** Runs a job to the end, to cancellation, to `maxCalls`, or to a fatal error. Never throws for call failures. */
export async function runLabelJob(o: LabelJobOptions): Promise<JobSummary> {
  const started = Date.now();
  const clock = o.clock ?? realClock;
  const emit = (e: JobEvent): void => o.onEvent?.(e);
  const setup = setupOf(o);
  const store = LabelStore.open(o.store);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  if (o.signal?.aborted) controller.abort();
  const signal = controller.signal;
  // Every call in flight listens to it (and removes its listener when done).
  setMaxListeners(Math.max(10, 4 * (o.concurrency ?? 4) + 10), signal);
  const rpm = o.rpm ? new TokenBucket(o.rpm, clock) : undefined;
  const tpm = o.tpm ? new TokenBucket(o.tpm, clock) : undefined;
  const completionGuess = o.pricing?.completionTokensPerCall ?? 16;
  const concurrency = Math.max(1, o.concurrency ?? 4);
  const maxFailures = o.maxConsecutiveFailures ?? 20;

  const s: JobSummary = {
    status: 'completed',
    store: o.store,
    setup,
    calls: 0,
    failedCalls: 0,
    retries: 0,
    alreadyStored: 0,
    remaining: 0,
    promptTokens: 0,
    completionTokens: 0,
    elapsedMs: 0,
  };
  const counts = { consistent: 0, inconsistent: 0, invalid: 0 };
  let consecutiveFailures = 0;
  let inFlight = 0;
  let issued = 0;
  let fatal: string | undefined;
  let phase: JobPhase = 'label';
  let total = 0;
  let done = 0;

  const fail = (message: string): void => {
    if (fatal === undefined) {
      fatal = message;
      emit({ type: 'error', message });
    }
    controller.abort();
  };
  const progress = (): void =>
    emit({
      type: 'progress',
      phase,
      done,
      total,
      calls: s.calls,
      failedCalls: s.failedCalls,
      inFlight,
      ...counts,
      promptTokens: s.promptTokens,
      completionTokens: s.completionTokens,
    });
  const stopped = (): boolean => signal.aborted || (o.maxCalls !== undefined && issued >= o.maxCalls);

  /** One call with rate limits and retries; undefined when it failed for good (counted and reported). */
  const call = async (key: string, prompt: string): Promise<{ reply: JudgeReply; ms: number } | undefined> => {
    issued++;
    inFlight++;
    const estimate = approxTokens(prompt) + completionGuess;
    try {
      const t0 = Date.now();
      const reply = await withRetry(
        async () => {
          await rpm?.acquire(1, signal);
          await tpm?.acquire(estimate, signal);
          const reply = await o.provider.complete(prompt, { signal });
          // An empty reply (a content filter, or a reasoning model out of tokens before it answered) holds no
          // verdict: stored, it would be an 'invalid' for good and never asked again.
          if (reply.text.trim() === '') throw new JudgeError('the reply is empty', 'malformed', true);
          return reply;
        },
        {
          policy: o.retry,
          signal,
          clock,
          random: o.random,
          onRetry: ({ attempt, delayMs, requestedMs, error }) => {
            s.retries++;
            emit({ type: 'retry', key, attempt, delayMs, requestedMs, reason: error.message });
          },
        },
      );
      consecutiveFailures = 0;
      return { reply, ms: Date.now() - t0 };
    } catch (e) {
      if (signal.aborted || isAbort(e)) return undefined;
      const message = errorMessage(e);
      if (e instanceof JudgeError && e.fatal) {
        fail(message);
        return undefined;
      }
      s.failedCalls++;
      emit({ type: 'call-failed', key, message });
      if (++consecutiveFailures >= maxFailures) fail(`${consecutiveFailures} calls in a row failed; last: ${message}`);
      return undefined;
    } finally {
      inFlight--;
    }
  };

  const tokensOf = (prompt: string, reply: JudgeReply): { promptTokens: number; completionTokens: number; tokensEstimated: boolean } => {
    const estimated = reply.promptTokens === undefined || reply.completionTokens === undefined;
    const promptTokens = reply.promptTokens ?? approxTokens(prompt);
    const completionTokens = reply.completionTokens ?? approxTokens(reply.text);
    s.promptTokens += promptTokens;
    s.completionTokens += completionTokens;
    return { promptTokens, completionTokens, tokensEstimated: estimated };
  };

  const pool = async <T>(items: Iterator<T>, work: (item: T) => Promise<void>): Promise<void> => {
    const worker = async (): Promise<void> => {
      for (;;) {
        if (stopped()) return;
        const next = items.next();
        if (next.done) return;
        await work(next.value);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
  };

  try {
    const plan = planLabelJob(o, store.contents);
    emit({ type: 'plan', plan });

    // Phase 1: categories for records that have none (router labels).
    if (plan.records.toClassify > 0) {
      phase = 'classify';
      total = plan.records.toClassify;
      done = 0;
      emit({ type: 'phase', phase, total, alreadyStored: 0 });
      const toClassify = function* (this: void): Generator<Selected> {
        const seen = new Set<string>();
        for (const sel of selectRecords(o, setup, store.contents.categories)) {
          if (sel.category !== undefined || seen.has(sel.record.id)) continue;
          seen.add(sel.record.id);
          yield sel;
        }
      };
      await pool(toClassify(), async (sel) => {
        const key = categoryKeyOf(setup, sel.record.id);
        const prompt = classifyPrompt(o.templates, o.points, splitContext(sel.record.context).query);
        const result = await call(key, prompt);
        if (!result) return;
        const category = parseCategory(result.reply.text, o.points);
        const line: CategoryLine = {
          type: 'category',
          key,
          setup,
          record: sel.record.id,
          index: sel.index,
          provider: o.provider.id,
          model: o.provider.model,
          template: o.templates.version,
          lang: o.templates.lang,
          ...storedReply(result.reply.text),
          category: category?.name ?? null,
          ...tokensOf(prompt, result.reply),
          ts: new Date().toISOString(),
        };
        store.append(line);
        s.calls++;
        done++;
        progress();
      });
    }

    // Phase 2: every pair, point and order.
    if (!stopped()) {
      phase = 'label';
      const tasks = countTasks(o, setup, store);
      total = tasks.total;
      s.alreadyStored = tasks.stored;
      done = tasks.stored;
      emit({ type: 'phase', phase, total, alreadyStored: tasks.stored });
      const pending = function* (this: void): Generator<{ task: PairTask; held: Held }> {
        const seen = new Set<string>();
        for (const sel of selectRecords(o, setup, store.contents.categories)) {
          if (!sel.category || seen.has(sel.record.id)) continue;
          seen.add(sel.record.id);
          let held: Held | undefined;
          for (const task of recordTasks(setup, sel.index, sel.record, sel.category)) {
            if (store.contents.calls.has(task.key)) {
              if (task.order === 'ba') writeLabel(task);
              continue;
            }
            held ??= { record: sel.record, ...splitContext(sel.record.context) };
            yield { task, held };
          }
        }
      };
      const pairFields = (task: PairTask) => ({
        setup,
        record: task.recordId,
        index: task.recordIndex,
        category: task.category,
        a: task.a,
        b: task.b,
        point: task.point.id,
      });
      const writeLabel = (task: PairTask): void => {
        if (store.contents.labels.has(task.pairKey)) return;
        const ab = store.contents.calls.get(taskKeyOf(task.pairKey, 'ab'));
        const ba = store.contents.calls.get(taskKeyOf(task.pairKey, 'ba'));
        if (!ab || !ba) return;
        const { result, winner } = mergeOrders(ab.verdict, ba.verdict, task.a, task.b);
        counts[result]++;
        const line: LabelLine = {
          type: 'label',
          key: task.pairKey,
          ...pairFields(task),
          source: 'judge',
          result,
          winner,
          model: ab.model,
          template: ab.template,
          ts: new Date().toISOString(),
        };
        store.append(line);
      };
      await pool(pending(), async ({ task, held }) => {
        {
          const [first, second] = task.order === 'ab' ? [task.a, task.b] : [task.b, task.a];
          const prompt = renderPairwise(o.templates, {
            point: pointName(task.point, o.templates.lang),
            query: held.query,
            response1: held.record.responses[first].text,
            response2: held.record.responses[second].text,
            history: o.attachHistory ? held.history : undefined,
          });
          const result = await call(task.key, prompt);
          if (!result) return;
          const verdict = parseVerdict(result.reply.text);
          const line: CallLine = {
            type: 'call',
            key: task.key,
            pairKey: task.pairKey,
            ...pairFields(task),
            order: task.order,
            provider: o.provider.id,
            model: o.provider.model,
            template: o.templates.version,
            lang: o.templates.lang,
            history: o.attachHistory ?? false,
            ...storedReply(result.reply.text),
            verdict,
            winner: winnerOf(verdict, task.order, task.a, task.b),
            ...tokensOf(prompt, result.reply),
            ms: result.ms,
            ts: new Date().toISOString(),
          };
          store.append(line);
          s.calls++;
          done++;
          writeLabel(task);
          progress();
        }
      });
    }
    s.remaining = remainingCalls(o, setup, store);
    if (fatal !== undefined) {
      s.status = 'failed';
      s.error = fatal;
    } else if (o.signal?.aborted) s.status = 'cancelled';
    else if (s.remaining > 0 && o.maxCalls !== undefined && issued >= o.maxCalls) s.status = 'max-calls';
    else s.status = 'completed';
  } catch (e) {
    s.status = 'failed';
    s.error = errorMessage(e);
    emit({ type: 'error', message: s.error });
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    store.close();
  }
  s.elapsedMs = Date.now() - started;
  s.cost = priced({ calls: s.calls, promptTokens: s.promptTokens, completionTokens: s.completionTokens }, o.pricing ?? {}).cost;
  emit({ type: 'done', summary: s });
  return s;
}

/** A record whose calls are being made: its text stays alive only while some of them are pending. */
interface Held {
  record: PreferenceRecord;
  query: string;
  history: Turn[];
}

/** Pair calls of the selected, categorised records: all, and those already stored. */
function countTasks(o: LabelJobOptions, setup: string, store: LabelStore): { total: number; stored: number } {
  let total = 0;
  let stored = 0;
  const seen = new Set<string>();
  for (const sel of selectRecords(o, setup, store.contents.categories)) {
    if (!sel.category || seen.has(sel.record.id)) continue;
    seen.add(sel.record.id);
    for (const task of recordTasks(setup, sel.index, sel.record, sel.category)) {
      total++;
      if (store.contents.calls.has(task.key)) stored++;
    }
  }
  return { total, stored };
}

function remainingCalls(o: LabelJobOptions, setup: string, store: LabelStore): number {
  let n = 0;
  const seen = new Set<string>();
  for (const sel of selectRecords(o, setup, store.contents.categories)) {
    if (seen.has(sel.record.id)) continue;
    seen.add(sel.record.id);
    if (sel.category === undefined) {
      n++;
      continue;
    }
    if (!sel.category) continue;
    for (const task of recordTasks(setup, sel.index, sel.record, sel.category)) if (!store.contents.calls.has(task.key)) n++;
  }
  return n;
}
