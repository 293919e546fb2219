import { parentPort, workerData } from 'node:worker_threads';
import { isGrouped } from './adapter';
import { BufferSource, FileSource } from './byte-source';
import { adapterFromSpec } from './entry';
import { scanRange } from './range-scan';
import type { ScanJob, ScanMessage } from './scan-protocol';
import { errorMessage } from '../error-message';

function post(message: ScanMessage, transfer: ArrayBuffer[] = []): void {
  parentPort!.postMessage(message, transfer);
}

function run(job: ScanJob): void {
  const adapter = adapterFromSpec(job.adapter);
  if (isGrouped(adapter)) throw new Error('grouped adapters are indexed in the main thread');
  // A range of an in-memory buffer arrives as its own bytes, so it is scanned from offset 0.
  const source = job.bytes ? new BufferSource(job.file, job.bytes) : new FileSource(job.file);
  const shift = job.bytes ? job.from : 0;
  try {
    let lastReport = 0;
    const result = scanRange(source, adapter, {
      format: job.format,
      from: job.from - shift,
      to: job.to - shift,
      chunkSize: job.chunkSize,
      onChunk: (position) => {
        if (position - lastReport >= 32 * 1024 * 1024) {
          lastReport = position;
          post({ type: 'progress', position: position + shift });
        }
      },
    });
    if (shift) for (let i = 0; i < result.starts.length; i++) result.starts[i] += shift;
    const arrays = [result.starts, result.lengths, result.lines, result.idHashes, result.promptHashes];
    post(
      { type: 'done', result },
      arrays.map((a) => a.buffer),
    );
  } finally {
    source.close();
  }
}

try {
  run(workerData as ScanJob);
} catch (e) {
  post({ type: 'error', message: errorMessage(e) });
}
