/**
 * Early stopping as in the paper's Appendix B.1: evaluate every N steps on the validation split, stop
 * after `patience` evaluations without improvement, keep the best weights. This class only decides;
 * the trainer saves a checkpoint whenever `observe` says `improved`. It serialises to plain JSON so a
 * resumed run continues its patience count instead of starting over.
 */

export interface EarlyStoppingOptions {
  /** Evaluations without improvement before stopping (0: stop at the first that does not improve). */
  patience: number;
  /** How much the value must rise to count as an improvement (default 0: any rise). */
  minDelta?: number;
}

export interface BestEvaluation {
  step: number;
  value: number;
  loss?: number;
}

export interface EarlyStoppingJSON {
  patience: number;
  minDelta: number;
  best?: BestEvaluation;
  evaluations: number;
  sinceBest: number;
}

export class EarlyStopping {
  readonly patience: number;
  readonly minDelta: number;
  private bestSoFar: BestEvaluation | undefined;
  private count = 0;
  private sinceBest = 0;

  constructor(options: EarlyStoppingOptions) {
    if (!Number.isInteger(options.patience) || options.patience < 0)
      throw new Error(`EarlyStopping: patience must be a non-negative integer (got ${options.patience})`);
    const minDelta = options.minDelta ?? 0;
    if (!Number.isFinite(minDelta) || minDelta < 0) throw new Error(`EarlyStopping: minDelta must be a non-negative number (got ${options.minDelta})`);
    this.patience = options.patience;
    this.minDelta = minDelta;
  }

  get best(): BestEvaluation | undefined {
    return this.bestSoFar === undefined ? undefined : { ...this.bestSoFar };
  }

  get evaluations(): number {
    return this.count;
  }

  /**
   * One validation result; `value` higher is better (accuracy). Accuracy on a small validation split
   * moves in steps of 1/pairs and often repeats, so an equal-or-better value with a lower `loss` also
   * counts as an improvement. A NaN value (a diverged model) never improves.
   */
  observe(step: number, value: number, loss?: number): { improved: boolean; stop: boolean } {
    this.count++;
    const b = this.bestSoFar;
    const usableLoss = loss !== undefined && Number.isFinite(loss) ? loss : undefined;
    let improved: boolean;
    if (Number.isNaN(value)) improved = false;
    else if (b === undefined) improved = true;
    else if (value > b.value + this.minDelta) improved = true;
    else improved = value >= b.value && usableLoss !== undefined && b.loss !== undefined && usableLoss < b.loss;

    if (improved) {
      this.bestSoFar = usableLoss === undefined ? { step, value } : { step, value, loss: usableLoss };
      this.sinceBest = 0;
    } else this.sinceBest++;
    return { improved, stop: !improved && this.sinceBest >= this.patience };
  }

  toJSON(): EarlyStoppingJSON {
    const j: EarlyStoppingJSON = { patience: this.patience, minDelta: this.minDelta, evaluations: this.count, sinceBest: this.sinceBest };
    if (this.bestSoFar !== undefined) j.best = { ...this.bestSoFar };
    return j;
  }

  static fromJSON(j: unknown): EarlyStopping {
    const o = j as Partial<EarlyStoppingJSON> | null;
    const bad = (why: string): Error => new Error(`EarlyStopping.fromJSON: ${why} (got ${JSON.stringify(j)})`);
    if (typeof o !== 'object' || o === null) throw bad('expected an object');
    if (typeof o.patience !== 'number') throw bad('patience is missing');
    const es = new EarlyStopping({ patience: o.patience, minDelta: o.minDelta ?? 0 });
    if (!Number.isInteger(o.evaluations) || o.evaluations! < 0) throw bad('evaluations must be a non-negative integer');
    if (!Number.isInteger(o.sinceBest) || o.sinceBest! < 0 || o.sinceBest! > o.evaluations!)
      throw bad('sinceBest must be an integer between 0 and evaluations');
    if (o.best !== undefined) {
      const b = o.best;
      if (
        typeof b !== 'object' ||
        b === null ||
        typeof b.step !== 'number' ||
        typeof b.value !== 'number' ||
        (b.loss !== undefined && typeof b.loss !== 'number')
      )
        throw bad('best must be {step, value, loss?}');
      es.bestSoFar = b.loss === undefined ? { step: b.step, value: b.value } : { step: b.step, value: b.value, loss: b.loss };
    } else if (o.evaluations! > o.sinceBest!) throw bad('evaluations improved on nothing, yet there is no best');
    es.count = o.evaluations!;
    es.sinceBest = o.sinceBest!;
    return es;
  }
}
