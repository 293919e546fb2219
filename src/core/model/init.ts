/**
 * Seeded random numbers for parameter initialisation, in plain JS so that a seed gives the same weights on
 * every backend (tfjs's random ops are backend-specific in places).
 */

/** mulberry32: small, fast, good enough for initialisation; state is one 32-bit integer. */
export function rng(seed: number): () => number {
  let s = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Derives an independent seed for a named part from a parent seed (FNV-1a over the name). */
export function subSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ Math.floor(seed)) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

export function normal(n: number, std: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    // Box–Muller; 1 - u keeps the log argument in (0, 1].
    const u = 1 - r();
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

export function uniform(n: number, bound: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (2 * r() - 1) * bound;
  return out;
}

export function filled(n: number, value: number): Float32Array {
  return new Float32Array(n).fill(value);
}
