/**
 * Hand-written AMQP encodings for the two hot paths: the header and broker annotations written
 * on every delivery, and the MessageId the broker stamps into messages sent without one. Both
 * produce exactly what rhea's generic writer would (same types), in one allocation and no
 * intermediate objects. Anything unusual falls back to the generic path in ./message.ts.
 */
import type { AmqpHeader } from "../amqp/rhea.js";

const NULL = 0x40;

/** Broker annotations a delivery may carry besides the sequence number and enqueued time. */
export interface DeliveryExtras {
  readonly lockedUntil?: number | undefined;
  /** 0 active, 1 deferred, 2 scheduled. */
  readonly state?: number | undefined;
  readonly scheduledAt?: number | undefined;
  readonly deadLetterSource?: string | undefined;
}

const KEY = {
  seq: Buffer.from("x-opt-sequence-number", "latin1"),
  enqueued: Buffer.from("x-opt-enqueued-time", "latin1"),
  lockedUntil: Buffer.from("x-opt-locked-until", "latin1"),
  state: Buffer.from("x-opt-message-state", "latin1"),
  scheduled: Buffer.from("x-opt-scheduled-enqueue-time", "latin1"),
  dlSource: Buffer.from("x-opt-deadletter-source", "latin1"),
};

/** Writes header + message annotations + `rest` into one buffer. */
export function encodeDeliveryFast(
  header: AmqpHeader | undefined,
  deliveryCount: number,
  seq: number,
  enqueuedAt: number,
  x: DeliveryExtras,
  rest: Buffer,
): Buffer {
  const dlSource = x.deadLetterSource === undefined ? undefined : Buffer.from(x.deadLetterSource, "utf8");
  // header: 00 53 70 c0 size count + 5 fields
  // durable, first-acquirer: 1 byte each; priority: null or ubyte; ttl: null or uint; delivery count: uint.
  const headerFields =
    1 + (header?.priority === undefined ? 1 : 2) + (header?.ttl === undefined ? 1 : 5) + 1 + 5;
  const headerLen = 5 + 1 + headerFields;
  // annotations: 00 53 72 d1 size32 count32 + pairs
  let pairs = 2;
  let body = 2 + KEY.seq.length + 9 + 2 + KEY.enqueued.length + 9;
  if (x.lockedUntil !== undefined) {
    pairs += 1;
    body += 2 + KEY.lockedUntil.length + 9;
  }
  if (x.state !== undefined) {
    pairs += 1;
    body += 2 + KEY.state.length + 5;
  }
  if (x.scheduledAt !== undefined) {
    pairs += 1;
    body += 2 + KEY.scheduled.length + 9;
  }
  if (dlSource !== undefined) {
    pairs += 1;
    body += 2 + KEY.dlSource.length + (dlSource.length > 255 ? 5 : 2) + dlSource.length;
  }
  const annLen = 3 + 1 + 4 + 4 + body;
  const out = Buffer.allocUnsafe(headerLen + annLen + rest.length);
  let p = 0;
  out[p++] = 0x00;
  out[p++] = 0x53;
  out[p++] = 0x70;
  out[p++] = 0xc0;
  out[p++] = 1 + headerFields; // size covers the count byte and the fields
  out[p++] = 5;
  out[p++] = header?.durable === undefined ? NULL : header.durable ? 0x41 : 0x42;
  if (header?.priority === undefined) {
    out[p++] = NULL;
  } else {
    out[p++] = 0x50;
    out[p++] = header.priority & 0xff;
  }
  if (header?.ttl === undefined) {
    out[p++] = NULL;
  } else {
    out[p++] = 0x70;
    p = out.writeUInt32BE(header.ttl >>> 0, p);
  }
  out[p++] = header?.first_acquirer === undefined ? NULL : header.first_acquirer ? 0x41 : 0x42;
  out[p++] = 0x70;
  p = out.writeUInt32BE(deliveryCount >>> 0, p);

  out[p++] = 0x00;
  out[p++] = 0x53;
  out[p++] = 0x72;
  out[p++] = 0xd1;
  p = out.writeUInt32BE(4 + body, p);
  p = out.writeUInt32BE(pairs * 2, p);
  const sym = (k: Buffer): void => {
    out[p++] = 0xa3;
    out[p++] = k.length;
    p += k.copy(out, p);
  };
  const i64 = (code: number, v: number): void => {
    out[p++] = code;
    p = out.writeBigInt64BE(BigInt(Math.trunc(v)), p);
  };
  sym(KEY.seq);
  i64(0x81, seq);
  sym(KEY.enqueued);
  i64(0x83, enqueuedAt);
  if (x.lockedUntil !== undefined) {
    sym(KEY.lockedUntil);
    i64(0x83, x.lockedUntil);
  }
  if (x.state !== undefined) {
    sym(KEY.state);
    out[p++] = 0x71;
    p = out.writeInt32BE(x.state, p);
  }
  if (x.scheduledAt !== undefined) {
    sym(KEY.scheduled);
    i64(0x83, x.scheduledAt);
  }
  if (dlSource !== undefined) {
    sym(KEY.dlSource);
    if (dlSource.length > 255) {
      out[p++] = 0xb1;
      p = out.writeUInt32BE(dlSource.length, p);
    } else {
      out[p++] = 0xa1;
      out[p++] = dlSource.length;
    }
    p += dlSource.copy(out, p);
  }
  rest.copy(out, p);
  return out;
}

/** Read only, shared: a zero-length Buffer costs an allocation per call. */
const NO_BYTES = Buffer.alloc(0);

/**
 * A properties section (`00 53 73 <list>`) whose message-id field is null or absent, with the
 * id filled in as a str8. Undefined when the section is not in a form this handles.
 */
export function stampMessageId(props: Buffer, id: string): Buffer | undefined {
  // Measured and written in place: no buffer of its own for the id (this runs per message sent).
  const idLength = Buffer.byteLength(id, "utf8");
  if (idLength > 255 || props[0] !== 0x00 || props[1] !== 0x53 || props[2] !== 0x73) return undefined;
  let count: number;
  let fields: Buffer;
  switch (props[3]) {
    case 0x45:
      count = 0;
      fields = NO_BYTES;
      break;
    case 0xc0:
      count = props[5]!;
      fields = props.subarray(6, 5 + props[4]!);
      break;
    case 0xd0:
      count = props.readUInt32BE(8);
      fields = props.subarray(12, 8 + props.readUInt32BE(4));
      break;
    default:
      return undefined;
  }
  let rest: Buffer;
  if (count === 0) {
    rest = NO_BYTES;
    count = 1;
  } else if (fields[0] === NULL) {
    rest = fields.subarray(1);
  } else {
    return undefined; // The message already has an id.
  }
  const elements = 2 + idLength + rest.length;
  const out = Buffer.allocUnsafe(3 + 1 + 4 + 4 + elements);
  out[0] = 0x00;
  out[1] = 0x53;
  out[2] = 0x73;
  out[3] = 0xd0;
  out.writeUInt32BE(4 + elements, 4);
  out.writeUInt32BE(count, 8);
  out[12] = 0xa1;
  out[13] = idLength;
  out.write(id, 14, idLength, "utf8");
  rest.copy(out, 14 + idLength);
  return out;
}
