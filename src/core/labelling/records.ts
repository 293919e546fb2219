import type { Dataset } from '../dataset/dataset';
import type { PreferenceRecord } from '../dataset/record';

/**
 * Looks records up by the index stored with a label, checking the content id: a label whose record
 * changed since (the dataset was edited) is not attached to the wrong text. Falls back to a scan by
 * id once, for stores made before records moved. Keeps the last few records, as labels come grouped.
 */
export class RecordLookup {
  private readonly cache = new Map<number, PreferenceRecord | undefined>();
  private byId: Map<string, number> | undefined;

  constructor(private readonly dataset: Dataset) {}

  get(index: number, id: string): PreferenceRecord | undefined {
    const r = this.read(index);
    if (r?.id === id) return r;
    this.byId ??= this.scan();
    const moved = this.byId.get(id);
    return moved === undefined ? undefined : this.read(moved);
  }

  private read(index: number): PreferenceRecord | undefined {
    if (index < 0 || index >= this.dataset.size) return undefined;
    if (this.cache.has(index)) return this.cache.get(index);
    const r = this.dataset.read(index).record;
    if (this.cache.size >= 8) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(index, r);
    return r;
  }

  private scan(): Map<string, number> {
    const map = new Map<string, number>();
    for (let i = 0; i < this.dataset.size; i++) {
      const r = this.dataset.read(i).record;
      if (r && !map.has(r.id)) map.set(r.id, i);
    }
    return map;
  }
}
