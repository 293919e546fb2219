/**
 * The few ONNX protobuf messages an export needs (onnx/onnx.proto3, IR version 8), encoded by hand:
 * no JS package builds ONNX graphs, and a schema-driven encoder (protobufjs + onnx.proto) would ship a
 * runtime and a schema for seven message types. Field numbers are the proto's; only what RewardLens
 * writes is here.
 */

export const enum DataType {
  FLOAT = 1,
  INT32 = 6,
  INT64 = 7,
}

export const enum AttrType {
  FLOAT = 1,
  INT = 2,
  STRING = 3,
  TENSOR = 4,
  FLOATS = 6,
  INTS = 7,
}

export interface TensorProto {
  name: string;
  dims: number[];
  dataType: DataType;
  /** Little-endian bytes of the elements (raw_data). */
  raw: Uint8Array;
  /** Where the bytes are instead, in a file beside the model (ONNX external data: large models). */
  external?: { location: string; offset: number; length: number };
}

export type AttributeValue =
  | { type: AttrType.FLOAT; f: number }
  | { type: AttrType.INT; i: number }
  | { type: AttrType.STRING; s: string }
  | { type: AttrType.TENSOR; t: TensorProto }
  | { type: AttrType.INTS; ints: number[] };

export interface NodeProto {
  name: string;
  opType: string;
  inputs: string[];
  outputs: string[];
  attributes: Record<string, AttributeValue>;
}

/** A dimension: a fixed size or a symbolic name (dynamic batch, sequence). */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  elemType: DataType;
  shape: Dim[];
}

export interface GraphProto {
  name: string;
  nodes: NodeProto[];
  initializers: TensorProto[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface ModelProto {
  irVersion: number;
  opset: number;
  producerName: string;
  producerVersion: string;
  docString: string;
  graph: GraphProto;
  metadata: Record<string, string>;
}

/** Collects encoded fields of one message; nested messages are encoded first, then framed by length. */
class Writer {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }

  private varint(value: number | bigint): void {
    // int64 fields: negatives are ten-byte two's complement, as protobuf specifies.
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private key(field: number, wire: 0 | 2 | 5): void {
    this.varint((field << 3) | wire);
  }

  int(field: number, value: number): this {
    this.key(field, 0);
    this.varint(value);
    return this;
  }

  float(field: number, value: number): this {
    this.key(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, value, true);
    this.push(b);
    return this;
  }

  bytes(field: number, value: Uint8Array): this {
    this.key(field, 2);
    this.varint(value.length);
    this.push(value);
    return this;
  }

  string(field: number, value: string): this {
    return this.bytes(field, Buffer.from(value, 'utf8'));
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  packedInts(field: number, values: number[]): this {
    const w = new Writer();
    for (const v of values) w.varint(v);
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    return Buffer.concat(this.parts, this.size);
  }
}

function tensor(t: TensorProto): Writer {
  const w = new Writer();
  if (t.dims.length) w.packedInts(1, t.dims);
  w.int(2, t.dataType).string(8, t.name);
  if (!t.external) return w.bytes(9, t.raw);
  // external_data entries (location, offset, length) and data_location EXTERNAL.
  const entry = (key: string, value: string): Writer => new Writer().string(1, key).string(2, value);
  w.message(13, entry('location', t.external.location))
    .message(13, entry('offset', String(t.external.offset)))
    .message(13, entry('length', String(t.external.length)));
  return w.int(14, 1);
}

function attribute(name: string, a: AttributeValue): Writer {
  const w = new Writer().string(1, name);
  switch (a.type) {
    case AttrType.FLOAT:
      w.float(2, a.f);
      break;
    case AttrType.INT:
      w.int(3, a.i);
      break;
    case AttrType.STRING:
      w.string(4, a.s);
      break;
    case AttrType.TENSOR:
      w.message(5, tensor(a.t));
      break;
    case AttrType.INTS:
      w.packedInts(8, a.ints);
      break;
  }
  return w.int(20, a.type);
}

function node(n: NodeProto): Writer {
  const w = new Writer();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const [name, a] of Object.entries(n.attributes)) w.message(5, attribute(name, a));
  return w;
}

function valueInfo(v: ValueInfo): Writer {
  const shape = new Writer();
  for (const d of v.shape) shape.message(1, typeof d === 'number' ? new Writer().int(1, d) : new Writer().string(2, d));
  const tensorType = new Writer().int(1, v.elemType).message(2, shape);
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensorType));
}

function graph(g: GraphProto): Writer {
  const w = new Writer();
  for (const n of g.nodes) w.message(1, node(n));
  w.string(2, g.name);
  for (const t of g.initializers) w.message(5, tensor(t));
  for (const i of g.inputs) w.message(11, valueInfo(i));
  for (const o of g.outputs) w.message(12, valueInfo(o));
  return w;
}

/** The serialized ModelProto, ready to be written to a .onnx file. */
export function encodeModel(m: ModelProto): Uint8Array {
  const w = new Writer()
    .int(1, m.irVersion)
    .string(2, m.producerName)
    .string(3, m.producerVersion)
    .string(6, m.docString)
    .message(7, graph(m.graph))
    .message(8, new Writer().string(1, '').int(2, m.opset));
  for (const [k, v] of Object.entries(m.metadata)) w.message(14, new Writer().string(1, k).string(2, v));
  return w.finish();
}
