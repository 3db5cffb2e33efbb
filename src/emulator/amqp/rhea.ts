/**
 * The slice of rhea the emulator uses, typed loosely in one place. rhea's own typings describe
 * the client side well but not the server side (deferred attach, raw sends, described values).
 */
import rhea from "rhea";

export { rhea };

/**
 * A decoded AMQP message as rhea represents it: the header and properties sections are
 * flattened onto the message (`ttl`, `durable`, `message_id`, `group_id`, ...).
 */
export interface AmqpMessage {
  durable?: boolean | undefined;
  priority?: number | undefined;
  ttl?: number | undefined;
  first_acquirer?: boolean | undefined;
  delivery_count?: number | undefined;
  delivery_annotations?: Record<string, unknown> | undefined;
  message_annotations?: Record<string, unknown> | undefined;
  message_id?: unknown;
  user_id?: unknown;
  to?: string | undefined;
  subject?: string | undefined;
  reply_to?: string | undefined;
  correlation_id?: unknown;
  content_type?: string | undefined;
  content_encoding?: string | undefined;
  absolute_expiry_time?: Date | number | undefined;
  creation_time?: Date | number | undefined;
  group_id?: string | undefined;
  group_sequence?: number | undefined;
  reply_to_group_id?: string | undefined;
  application_properties?: Record<string, unknown> | undefined;
  body?: unknown;
  footer?: Record<string, unknown> | undefined;
  [key: string]: unknown;
}

export interface AmqpHeader {
  durable?: boolean;
  priority?: number;
  ttl?: number;
  first_acquirer?: boolean;
  delivery_count?: number;
}

/** An AMQP error as carried by detach, close and rejected outcomes. */
export interface AmqpErrorInfo {
  condition: string;
  description: string;
  info?: Record<string, unknown>;
}

// rhea's typings do not cover these server-side details; the casts stay in this file.
/* eslint-disable @typescript-eslint/no-explicit-any */
export type RheaLink = any;
export type RheaConnection = any;
export type RheaDelivery = any;
export type RheaContext = any;
/* eslint-enable @typescript-eslint/no-explicit-any */

export const types = rhea.types as unknown as {
  wrap_long(n: number | Buffer): unknown;
  wrap_ulong(n: number): unknown;
  wrap_int(n: number): unknown;
  wrap_uint(n: number): unknown;
  wrap_uuid(b: Buffer): unknown;
  wrap_string(s: string): unknown;
  wrap_symbol(s: string): unknown;
  wrap_boolean(b: boolean): unknown;
  wrap_timestamp(n: number): unknown;
  wrap_binary(b: Buffer): unknown;
  wrap_map(m: Record<string, unknown>, key_wrapper?: (k: string) => unknown): unknown;
  wrap_symbolic_map(m: Record<string, unknown>): unknown;
  wrap_list(l: unknown[]): unknown;
  wrap_array(l: unknown[], code: number, descriptor?: unknown): unknown;
  wrap_described(value: unknown, descriptor: unknown): unknown;
  described(descriptor: unknown, value: unknown): unknown;
  described_nc(descriptor: unknown, value: unknown): unknown;
  wrap(v: unknown): unknown;
  unwrap(v: unknown, leave_described?: boolean): unknown;
  Writer: new (buffer?: Buffer) => { write(v: unknown): void; toBuffer(): Buffer };
  Reader: new (buffer: Buffer) => {
    read(): { descriptor?: { value: unknown }; value: unknown } & Record<string, unknown>;
    remaining(): number;
    position: number;
  };
  is_ulong(v: unknown): boolean;
};

export const message = rhea.message as unknown as {
  encode(m: AmqpMessage): Buffer;
  decode(b: Buffer): AmqpMessage;
  data_section(b: Buffer): unknown;
  data_sections(b: Buffer[]): unknown;
  accepted(): { described(): unknown };
  rejected(o?: { error?: AmqpErrorInfo }): { described(): unknown };
  modified(o?: Record<string, unknown>): { described(): unknown };
  released(): { described(): unknown };
};
