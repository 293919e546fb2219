/**
 * First-occurrence table for 52-bit content hashes (duplicate ids and prompts over millions of
 * records). Open addressing on typed arrays: a Map with non-Smi number keys was 5× slower here.
 */
export class FirstSeen {
  private keys: Float64Array;
  private values: Uint32Array;
  private mask: number;
  private count = 0;

  constructor(expected: number) {
    let capacity = 16;
    while (capacity < expected * 2) capacity *= 2;
    this.keys = new Float64Array(capacity);
    this.values = new Uint32Array(capacity);
    this.mask = capacity - 1;
  }

  /** Stores `value` for `key` unless present; returns the earlier value, or -1 the first time. */
  getOrAdd(key: number, value: number): number {
    if (this.count * 2 >= this.keys.length) this.grow();
    const stored = key + 1; // 0 marks an empty slot; keys are < 2^52 so +1 stays exact
    let slot = (key >>> 0) & this.mask; // the low 32 bits of a hash are uniform
    for (;;) {
      const k = this.keys[slot];
      if (k === 0) {
        this.keys[slot] = stored;
        this.values[slot] = value;
        this.count++;
        return -1;
      }
      if (k === stored) return this.values[slot];
      slot = (slot + 1) & this.mask;
    }
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.values = new Uint32Array(keys.length * 2);
    this.mask = this.keys.length - 1;
    this.count = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== 0) this.getOrAdd(keys[i] - 1, values[i]);
  }
}
