import { parentPort, workerData } from 'node:worker_threads';
import { isGrouped } from './adapter';
import { FileSource } from './byte-source';
import { adapterFromSpec } from './entry';
import { scanRange } from './range-scan';
import type { ScanJob, ScanMessage } from './scan-protocol';

function post(message: ScanMessage, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

function run(job: ScanJob): void {
  const adapter = adapterFromSpec(job.adapter);
  if (isGrouped(adapter)) throw new Error('grouped adapters are indexed in the main thread');
  const source = new FileSource(job.file);
  try {
    let lastReport = 0;
    const result = scanRange(source, adapter, {
      format: job.format,
      from: job.from,
      to: job.to,
      chunkSize: job.chunkSize,
      onChunk: (position) => {
        if (position - lastReport >= 32 * 1024 * 1024) {
          lastReport = position;
          post({ type: 'progress', position });
        }
      },
    });
    const arrays = [result.starts, result.lengths, result.lines, result.idHashes, result.promptHashes];
    post({ type: 'done', result }, arrays.map((a) => a.buffer as ArrayBuffer));
  } finally {
    source.close();
  }
}

try {
  run(workerData as ScanJob);
} catch (e) {
  post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}
