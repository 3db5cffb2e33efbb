/**
 * A small AMQP decoder for the head of a message (header, message annotations, properties,
 * application properties): what the send path reads for every message in a batch. It yields
 * the same shapes as rhea's decoder (fields flattened onto the message) for the primitive types
 * Service Bus clients send, and gives up (undefined) on anything else, so the caller falls back
 * to rhea. Decoding a batch's heads this way costs a fraction of rhea's generic decoder.
 */
import type { AmqpMessage } from "../amqp/rhea.js";

class Unsupported extends Error {
  readonly code = "Unsupported";
}

const HEADER_FIELDS = ["durable", "priority", "ttl", "first_acquirer", "delivery_count"] as const;
const PROPERTY_FIELDS = [
  "message_id",
  "user_id",
  "to",
  "subject",
  "reply_to",
  "correlation_id",
  "content_type",
  "content_encoding",
  "absolute_expiry_time",
  "creation_time",
  "group_id",
  "group_sequence",
  "reply_to_group_id",
] as const;

class Cursor {
  constructor(
    readonly b: Buffer,
    public p: number,
  ) {}

  value(): unknown {
    const b = this.b;
    const c = b[this.p++];
    switch (c) {
      case 0x40:
        return null;
      case 0x41:
        return true;
      case 0x42:
        return false;
      case 0x56:
        return b[this.p++] !== 0;
      case 0x43:
      case 0x44:
        return 0;
      case 0x50:
      case 0x52:
      case 0x53:
        return b[this.p++];
      case 0x51:
      case 0x54:
      case 0x55:
        return b.readInt8(this.p++);
      case 0x60:
        return this.adv(2, b.readUInt16BE(this.p));
      case 0x61:
        return this.adv(2, b.readInt16BE(this.p));
      case 0x70:
        return this.adv(4, b.readUInt32BE(this.p));
      case 0x71:
        return this.adv(4, b.readInt32BE(this.p));
      case 0x72:
        return this.adv(4, b.readFloatBE(this.p));
      case 0x82:
        return this.adv(8, b.readDoubleBE(this.p));
      case 0x80:
      case 0x81: {
        const v = c === 0x80 ? b.readBigUInt64BE(this.p) : b.readBigInt64BE(this.p);
        // rhea yields numbers while they are exact, else the 8 raw bytes.
        const out =
          v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER)
            ? Number(v)
            : Buffer.from(b.subarray(this.p, this.p + 8));
        this.p += 8;
        return out;
      }
      case 0x83:
        return this.adv(8, new Date(Number(b.readBigInt64BE(this.p))));
      case 0x98:
        return this.adv(16, Buffer.from(b.subarray(this.p, this.p + 16)));
      case 0xa0:
        return this.bytes(b[this.p++]!);
      case 0xb0:
        return this.bytes(this.u32());
      case 0xa1:
      case 0xa3:
        return this.text(b[this.p++]!);
      case 0xb1:
      case 0xb3:
        return this.text(this.u32());
      case 0x45:
        return [];
      case 0xc0:
        this.p += 1;
        return this.list(b[this.p++]!);
      case 0xd0:
        this.p += 4;
        return this.list(this.u32());
      case 0xc1:
        this.p += 1;
        return this.map(b[this.p++]!);
      case 0xd1:
        this.p += 4;
        return this.map(this.u32());
      default:
        throw new Unsupported();
    }
  }

  private adv<T>(n: number, v: T): T {
    this.p += n;
    return v;
  }

  private u32(): number {
    const v = this.b.readUInt32BE(this.p);
    this.p += 4;
    return v;
  }

  private bytes(n: number): Buffer {
    const v = Buffer.from(this.b.subarray(this.p, this.p + n));
    this.p += n;
    return v;
  }

  private text(n: number): string {
    const v = this.b.toString("utf8", this.p, this.p + n);
    this.p += n;
    return v;
  }

  list(count: number): unknown[] {
    const out: unknown[] = [];
    for (let i = 0; i < count; i += 1) out.push(this.value());
    return out;
  }

  map(count: number): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < count; i += 2) {
      const k = this.value();
      if (typeof k !== "string") throw new Unsupported();
      out[k] = this.value();
    }
    return out;
  }
}

/** Decodes the head sections that end at `end`; undefined when something needs rhea. */
export function decodeHeadFast(raw: Buffer, end: number): AmqpMessage | undefined {
  const m: AmqpMessage = {};
  const c = new Cursor(raw, 0);
  try {
    while (c.p < end) {
      if (raw[c.p] !== 0x00 || raw[c.p + 1] !== 0x53) return undefined;
      const code = raw[c.p + 2];
      c.p += 3;
      const v = c.value();
      if (code === 0x70 || code === 0x73) {
        if (!Array.isArray(v)) return undefined;
        const names = code === 0x70 ? HEADER_FIELDS : PROPERTY_FIELDS;
        v.forEach((field, i) => {
          const name = names[i];
          if (name !== undefined && field !== null && field !== undefined) m[name] = field;
        });
      } else if (code === 0x71 || code === 0x72 || code === 0x74) {
        if (v === null) continue;
        if (typeof v !== "object" || Array.isArray(v)) return undefined;
        const key =
          code === 0x71
            ? "delivery_annotations"
            : code === 0x72
              ? "message_annotations"
              : "application_properties";
        m[key] = v as Record<string, unknown>;
      } else {
        return undefined;
      }
    }
    return m;
  } catch (error) {
    if (error instanceof Unsupported || error instanceof RangeError) return undefined;
    throw error;
  }
}
