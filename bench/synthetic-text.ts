/** Words of the benches' synthetic records: English and Chinese, so both tokenizer paths are exercised. */
const WORDS = [
  'the',
  'answer',
  'is',
  'about',
  'this',
  'topic',
  'and',
  'it',
  'seems',
  'that',
  'we',
  'can',
  'say',
  'many',
  'things',
  'water',
  'iron',
  'music',
  'coffee',
  'rivers',
  '我们',
  '认为',
  '这个',
  '问题',
];

/** `n` words drawn with a fixed-seed generator, so a bench writes the same records on every run. */
export function syntheticText(seed: number): (n: number) => string {
  let state = seed;
  const next = (): number => (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  return (n) => Array.from({ length: n }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' ');
}
