/**
 * Reading and writing the safetensors format (https://github.com/huggingface/safetensors): an 8-byte
 * little-endian header length, a JSON header {name: {dtype, shape, data_offsets}, __metadata__}, then the raw
 * little-endian data. The format is tiny and no well-kept npm reader exists, so it is written by hand here.
 * Every tensor is handed out as Float32 (F16/BF16 widened, small integer tensors converted).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, NamedArray & { dtype: string }>;
  metadata: Record<string, string>;
}

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };
/** Integer tensors (e.g. BERT's position_ids buffer) are converted only when exactly representable and small. */
const MAX_INT_ELEMENTS = 1 << 20;
/** A header longer than this is not a safetensors file (the Rust library caps it at 100 MB too). */
const MAX_HEADER = 100_000_000;

/** Bytes at an offset: of a buffer, or of an open file (read tensor by tensor, so no file is ever one buffer). */
interface ByteSource {
  size: number;
  /** A fresh copy, or a view where the source is a buffer. */
  read(at: number, length: number): Uint8Array;
}

function bufferSource(bytes: Uint8Array): ByteSource {
  return { size: bytes.length, read: (at, length) => bytes.subarray(at, at + length) };
}

/** Node reads at most 2 GiB a call, and may read less: a large tensor is read in pieces. */
const READ_PIECE = 1 << 30;

function fileSource(fd: number): ByteSource {
  return {
    size: fstatSync(fd).size,
    read: (at, length) => {
      const out = new Uint8Array(length);
      for (let done = 0; done < length;) {
        const n = readSync(fd, out, done, Math.min(READ_PIECE, length - done), at + done);
        if (n === 0) throw new Error(`unexpected end of file at byte ${at + done}`);
        done += n;
      }
      return out;
    },
  };
}

/**
 * The tensors of a safetensors file (read tensor by tensor: checkpoints of large bases exceed what one
 * Node buffer holds) or of its bytes.
 */
export function readSafetensors(fileOrBuffer: string | Uint8Array): SafetensorsFile {
  if (typeof fileOrBuffer !== 'string') return parseSafetensors(bufferSource(fileOrBuffer), 'safetensors buffer');
  const fd = openSync(fileOrBuffer, 'r');
  try {
    return parseSafetensors(fileSource(fd), fileOrBuffer);
  } finally {
    closeSync(fd);
  }
}

function parseSafetensors(src: ByteSource, where: string): SafetensorsFile {
  const fail = (why: string): never => {
    throw new Error(`${where}: not a valid safetensors file: ${why}`);
  };
  if (src.size < 8) fail(`${src.size} bytes, shorter than the 8-byte header length`);
  const head = src.read(0, 8);
  const headerLen = Number(new DataView(head.buffer, head.byteOffset, 8).getBigUint64(0, true));
  if (headerLen > MAX_HEADER || 8 + headerLen > src.size) fail(`header length ${headerLen} exceeds the file size (${src.size} bytes)`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(src.read(8, headerLen)));
  } catch (e) {
    fail(`header is not JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) return fail('header is not a JSON object');
  const dataStart = 8 + headerLen;
  const dataLen = src.size - dataStart;
  const tensors = new Map<string, NamedArray & { dtype: string }>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const dtype = String(e.dtype);
    const shape = e.shape;
    const offsets = e.data_offsets;
    if (!(dtype in BYTES)) fail(`tensor '${name}' has unsupported dtype ${dtype}`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`tensor '${name}' has a bad shape ${JSON.stringify(shape)}`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(`tensor '${name}' has bad data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (begin > end || end > dataLen) fail(`tensor '${name}' data_offsets [${begin}, ${end}] lie outside the ${dataLen} data bytes`);
    if (end - begin !== count * BYTES[dtype])
      fail(`tensor '${name}' has ${end - begin} bytes, but ${dtype} ${JSON.stringify(shape)} needs ${count * BYTES[dtype]}`);
    const refuse = (): never => fail(`tensor '${name}' (${dtype}, ${count} elements) cannot be read as float32: only small integer tensors are converted`);
    if (!['F32', 'F64', 'F16', 'BF16'].includes(dtype) && count > MAX_INT_ELEMENTS) refuse();
    const data = decode(src.read(dataStart + begin, end - begin), 0, count, dtype, refuse);
    tensors.set(name, { dtype, shape: shape as number[], data });
  }
  return { tensors, metadata };
}

function decode(bytes: Uint8Array, at: number, count: number, dtype: string, refuse: () => never): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, count * BYTES[dtype]);
  const out = new Float32Array(count);
  switch (dtype) {
    case 'F32':
      // Little-endian hosts (every one Node runs on in practice) copy the bytes as they are.
      if (LITTLE_ENDIAN)
        out.set(
          (bytes.byteOffset + at) % 4 === 0
            ? new Float32Array(bytes.buffer, bytes.byteOffset + at, count)
            : new Float32Array(bytes.slice(at, at + 4 * count).buffer),
        );
      else for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
      return out;
    case 'F64':
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i, true);
      return out;
    case 'F16':
      for (let i = 0; i < count; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) u[i] = view.getUint16(2 * i, true) << 16;
      return out;
    }
    default: {
      if (count > MAX_INT_ELEMENTS) refuse();
      for (let i = 0; i < count; i++) {
        let v: number;
        if (dtype === 'I64') {
          const b = view.getBigInt64(8 * i, true);
          if (b > 16777216n || b < -16777216n) refuse();
          v = Number(b);
        } else if (dtype === 'I32') v = view.getInt32(4 * i, true);
        else if (dtype === 'I16') v = view.getInt16(2 * i, true);
        else if (dtype === 'I8') v = view.getInt8(i);
        else v = view.getUint8(i); // U8, BOOL
        if (Math.abs(v) > 16777216) refuse();
        out[i] = v;
      }
      return out;
    }
  }
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** Token ids, offsets and indices (a training plan's tables): written as I32. */
export interface IntArray {
  shape: number[];
  data: Int32Array;
}

/**
 * Serialises tensors as safetensors bytes, F32 (I32 for `Int32Array` data): keys sorted, header padded with
 * spaces to 8 bytes (as the Rust library).
 */
export function encodeSafetensors(tensors: Map<string, NamedArray | IntArray>, metadata?: Record<string, string>): Uint8Array {
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  for (const name of names) {
    const t = tensors.get(name)!;
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`safetensors: tensor '${name}' has ${t.data.length} values but shape ${JSON.stringify(t.shape)}`);
    header[name] = { dtype: t.data instanceof Int32Array ? 'I32' : 'F32', shape: t.shape, data_offsets: [offset, offset + 4 * count] };
    offset += 4 * count;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const name of names) {
    const data = tensors.get(name)!.data;
    if (data instanceof Int32Array) for (let i = 0; i < data.length; i++, at += 4) view.setInt32(at, data[i], true);
    else for (let i = 0; i < data.length; i++, at += 4) view.setFloat32(at, data[i], true);
  }
  return out;
}

/** The named weight `name`, or an error saying which one `where` lacks. */
export function need(weights: Map<string, NamedArray>, name: string, where: string): NamedArray {
  const w = weights.get(name);
  if (!w) throw new Error(`${where}: missing parameter '${name}'`);
  return w;
}
