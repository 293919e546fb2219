/**
 * The run's only source of randomness (splits, shuffles, initialisation seeds, dropout seeds), so a
 * run is reproducible from its seed on any platform: sfc32 (Chris Doty-Humphrey's small fast chaotic
 * generator, 128-bit state, passes PractRand) seeded by cyrb128, a string hash. Both use only 32-bit
 * integer arithmetic (`Math.imul`, shifts), never floating-point state, so every JS engine gives the
 * same stream. Not for anything secret.
 */

/** cyrb128 (bryc): four 32-bit words from a string. */
function cyrb128(s: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < s.length; i++) {
    const k = s.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

const STATE_WORDS = 8;

export class Rng {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;
  /**
   * What identifies this stream (the hash of its seed and fork path). Forks derive from it, not from
   * the current position, so a component's stream is the same whether or not earlier components
   * drew numbers first, which is what lets a resumed run continue exactly.
   */
  private key: [number, number, number, number] = [0, 0, 0, 0];

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: the seed must be a finite number (got ${seed})`);
    this.reseed(cyrb128(`rewardlens-rng:${seed}`));
  }

  private reseed(key: [number, number, number, number]): void {
    this.key = key;
    [this.a, this.b, this.c, this.d] = key;
    // The first outputs of sfc32 still resemble the seed words; its author discards a dozen.
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  private nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new Error(`Rng.int: n must be an integer in 1..2^32 (got ${n})`);
    return Math.floor(this.next() * n);
  }

  /** Fisher–Yates, in place; returns `a`. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
    return a;
  }

  /** An independent stream for one component (`'phase2/empathy'`), the same for the same seed and label. */
  fork(label: string): Rng {
    const child = new Rng(0);
    child.reseed(cyrb128(`${this.key.join(',')}/${label}`));
    return child;
  }

  /** Position and identity, as plain numbers (for state.json). */
  state(): number[] {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0, ...this.key];
  }

  static fromState(s: number[]): Rng {
    if (!Array.isArray(s) || s.length !== STATE_WORDS || !s.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff))
      throw new Error(`Rng.fromState: expected ${STATE_WORDS} unsigned 32-bit integers (got ${JSON.stringify(s)})`);
    const r = new Rng(0);
    r.a = s[0] | 0;
    r.b = s[1] | 0;
    r.c = s[2] | 0;
    r.d = s[3] | 0;
    r.key = [s[4], s[5], s[6], s[7]];
    return r;
  }
}
