/**
 * Reading a dead-letter queue without changing it: peek (no lock, no delivery count) page by page
 * from the first message to the last. Every read-only command and the planning step of replay and
 * purge start here.
 *
 * Receivers always use `skipParsingBodyAsJson` (the body stays the exact bytes of its data
 * section) and `skipConvertingDate` (Date application properties stay Dates, so a replay sends
 * them back as AMQP timestamps rather than numbers).
 */
import type {
  ServiceBusClient,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
  ServiceBusReceiverOptions,
} from "@azure/service-bus";
import { setupError } from "./errors.js";
import type { SourceEntity } from "./entity.js";
import { sourceLabel } from "./entity.js";
import { matchesSelection, type Selection } from "./selection.js";
import { viewOfReceived, type MessageView } from "./view.js";

const PAGE_SIZE = 250;

export function deadLetterReceiver(
  client: ServiceBusClient,
  source: SourceEntity,
  options: Omit<
    ServiceBusReceiverOptions,
    "subQueueType" | "skipParsingBodyAsJson" | "skipConvertingDate"
  > = {},
): ServiceBusReceiver {
  const all: ServiceBusReceiverOptions = {
    ...options,
    subQueueType: "deadLetter",
    skipParsingBodyAsJson: true,
    skipConvertingDate: true,
  };
  return source.kind === "queue"
    ? client.createReceiver(source.queue, all)
    : client.createReceiver(source.topic, source.subscription, all);
}

export interface Scanned {
  readonly message: ServiceBusReceivedMessage;
  readonly view: MessageView;
}

/** Every dead letter of `source`, in peek order. Stops early when `signal` aborts. */
export async function* peekDeadLetters(
  client: ServiceBusClient,
  source: SourceEntity,
  signal?: AbortSignal,
): AsyncGenerator<Scanned> {
  const receiver = deadLetterReceiver(client, source, { receiveMode: "peekLock" });
  try {
    for (;;) {
      if (signal?.aborted) return;
      let page: ServiceBusReceivedMessage[];
      try {
        // The receiver's own cursor continues after the last peeked sequence number.
        page = await receiver.peekMessages(PAGE_SIZE);
      } catch (error) {
        throw setupError(error, `peek ${sourceLabel(source)}`);
      }
      if (page.length === 0) return;
      for (const message of page) yield { message, view: viewOfReceived(message) };
    }
  } finally {
    await receiver.close();
  }
}

export interface ScanResult {
  /** Dead letters seen. */
  readonly total: number;
  /** Those matching the selection, in sequence order, cut to `--limit`. */
  readonly selected: readonly Scanned[];
}

export async function scanSelection(
  client: ServiceBusClient,
  source: SourceEntity,
  selection: Selection,
  signal?: AbortSignal,
): Promise<ScanResult> {
  let total = 0;
  const selected: Scanned[] = [];
  for await (const scanned of peekDeadLetters(client, source, signal)) {
    total += 1;
    if (matchesSelection(selection, scanned.view)) selected.push(scanned);
  }
  // Peek order is sequence order on a single partition, but not across partitions: sort, then cut.
  selected.sort((a, b) => compareSequence(a.view.sequenceNumber, b.view.sequenceNumber));
  return { total, selected: selection.limit === undefined ? selected : selected.slice(0, selection.limit) };
}

export function compareSequence(a: bigint | undefined, b: bigint | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return 1;
  if (b === undefined) return -1;
  return a < b ? -1 : 1;
}
