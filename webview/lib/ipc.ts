/**
 * Typed messages between the extension host and a webview. Each message type names its method and
 * carries a guard; the protocol file of a webview declares which side sends each one.
 *
 * Imported by both sides: no `vscode`, no DOM.
 */

export interface IpcMessage<P> {
  readonly method: string;
  readonly params: P;
}

export interface IpcMessageType<P> {
  readonly method: string;
  /** Builds a message of this type. */
  (params: P): IpcMessage<P>;
  /** True when `msg` is a well-formed message of this type (checks the params' shape, not only the method). */
  is(msg: unknown): msg is IpcMessage<P>;
}

/** How a params field is checked; `?` marks an optional field. */
export type FieldKind = 'number' | 'string' | 'boolean' | 'object' | 'number?' | 'string?' | 'object?';

/** One check per field of the params. */
export type FieldSpec<P> = { [K in keyof P]-?: FieldKind };

function isMessage(msg: unknown): msg is { method: unknown; params: unknown } {
  return typeof msg === 'object' && msg !== null && 'method' in msg && 'params' in msg;
}

function checkField(value: unknown, kind: FieldKind): boolean {
  if (kind.endsWith('?') && value === undefined) return true;
  const base = kind.replace('?', '');
  if (base === 'number') return typeof value === 'number' && Number.isFinite(value);
  if (base === 'object') return typeof value === 'object' && value !== null;
  return typeof value === base;
}

function matches<P>(params: unknown, spec: FieldSpec<P>): params is P {
  if (typeof params !== 'object' || params === null) return false;
  const record = params as Record<string, unknown>;
  return Object.entries<FieldKind>(spec).every(([key, kind]) => checkField(record[key], kind));
}

/**
 * A message type. `spec` checks the params field by field: messages from a webview are validated,
 * never trusted (the host checks what the webview sends; the webview checks what it renders).
 */
export function messageType<P extends object>(method: string, spec: FieldSpec<P>): IpcMessageType<P> {
  const create = (params: P): IpcMessage<P> => ({ method, params });
  return Object.assign(create, {
    method,
    is: (msg: unknown): msg is IpcMessage<P> => isMessage(msg) && msg.method === method && matches(msg.params, spec),
  });
}
