import { writeFileSync } from 'node:fs';
import { Dataset } from '../../src/core/dataset/dataset';
import { recordId } from '../../src/core/dataset/record-id';
import { labelsFromRatings } from '../../src/core/labelling/from-ratings';
import { defaultPointsConfig } from '../../src/core/labelling/points';
import { Rng } from '../../src/core/training/rng';

/**
 * A preference dataset with a known, learnable structure, for end-to-end training tests that must
 * beat chance in minutes on two cores. Two task categories with distinct prompts; each response carries
 * marker words for two capabilities; per-aspect ratings count the markers (the "LLM" capability labels)
 * and the human ranking weighs the capabilities differently per category, so a category-aware model has
 * something to gain. Written as canonical JSONL (docs/record-model.md).
 */
export const SYNTHETIC_CATEGORIES = {
  'objective knowledge QA': { prompts: ['What is the boiling point of', 'Who discovered', 'When was', 'How far is'], weights: { correctness: 3, fluency: 1 } },
  'subjective knowledge QA': {
    prompts: ['What do you think about', 'Should I choose', 'Why do people like', 'Is it wise to'],
    weights: { correctness: 1, fluency: 3 },
  },
} as const;

const MARKERS = { correctness: ['accurate', 'verified', 'precise'], fluency: ['smooth', 'clear', 'elegant'] } as const;
const FILLER = ['the', 'answer', 'is', 'about', 'this', 'topic', 'and', 'it', 'seems', 'that', 'we', 'can', 'say', 'many', 'things'];
const TOPICS = ['water', 'iron', 'paris', 'music', 'coffee', 'rivers', 'planets', 'bridges', 'tea', 'chess', 'rain', 'salt'];

export function writeSyntheticPreferences(file: string, records: number, seed: number, responsesPerRecord = 3): void {
  const rng = new Rng(seed);
  const names = Object.keys(SYNTHETIC_CATEGORIES) as Array<keyof typeof SYNTHETIC_CATEGORIES>;
  const lines: string[] = [];
  for (let i = 0; i < records; i++) {
    const category = names[i % names.length];
    const spec = SYNTHETIC_CATEGORIES[category];
    const prompt = `${spec.prompts[rng.int(spec.prompts.length)]} ${TOPICS[rng.int(TOPICS.length)]} number ${i}?`;
    const responses = [];
    const totals: number[] = [];
    for (let r = 0; r < responsesPerRecord; r++) {
      const counts = { correctness: rng.int(4), fluency: rng.int(4) };
      const words: string[] = Array.from({ length: 6 + rng.int(6) }, () => FILLER[rng.int(FILLER.length)]);
      for (const aspect of ['correctness', 'fluency'] as const) {
        for (let k = 0; k < counts[aspect]; k++) words.splice(rng.int(words.length + 1), 0, MARKERS[aspect][rng.int(3)]);
      }
      totals.push(counts.correctness * spec.weights.correctness + counts.fluency * spec.weights.fluency);
      responses.push({
        text: words.join(' '),
        ratings: [
          { aspect: 'Correctness', value: counts.correctness, source: 'judge' },
          { aspect: 'Fluency', value: counts.fluency, source: 'judge' },
        ],
      });
    }
    const ranking = totals.map((t) => 1 + totals.filter((o) => o > t).length);
    const record = { category, context: [{ role: 'user' as const, content: prompt }], responses, preference: { ranking } };
    lines.push(JSON.stringify({ id: recordId(record), ...record }));
  }
  writeFileSync(file, lines.join('\n') + '\n');
}

/** Synthetic preferences plus their capability labels (from the per-aspect ratings) in `labelsFile`. */
export async function writeLabelledSyntheticPreferences(file: string, labelsFile: string, records: number, seed: number): Promise<void> {
  writeSyntheticPreferences(file, records, seed);
  const dataset = await Dataset.open(file);
  try {
    labelsFromRatings({ dataset, store: labelsFile, source: 'judge', points: defaultPointsConfig() });
  } finally {
    dataset.close();
  }
}
