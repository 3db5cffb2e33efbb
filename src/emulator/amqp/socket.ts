/**
 * Byte-level care of an accepted AMQP socket, before and under rhea: answering a protocol header
 * we do not speak, and acknowledging a client's reads promptly.
 */
import type { Socket } from "node:net";
import type { RheaConnection } from "./rhea.js";

/** An AMQP empty frame (a heartbeat): 8 bytes, channel 0, valid at any time after open. */
const EMPTY_FRAME = Buffer.from([0, 0, 0, 8, 2, 0, 0, 0]);

/**
 * The SDK's socket has Nagle on (rhea-promise attaches links without setting no-delay), so a small
 * frame it writes while its previous one is unacknowledged waits for our delayed ACK, about 40 ms:
 * the drain at the end of every empty `receiveMessages`, for one. When a read leaves us nothing to
 * answer, an empty frame (any bytes) carries the ACK at once. Our own side has no-delay on.
 */
export function ackPromptly(socket: Socket, connection: RheaConnection): void {
  socket.setNoDelay(true);
  let written = -1; // bytes written when the first unanswered read arrived; -1: no check pending
  const check = (): void => {
    if (socket.bytesWritten === written && socket.writable && connection.is_open()) socket.write(EMPTY_FRAME);
    written = -1;
  };
  socket.on("data", () => {
    // One check per turn of the event loop however many reads arrive (a large batch is several).
    if (written !== -1) return;
    written = socket.bytesWritten;
    setImmediate(check);
  });
}

const SASL_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 3, 1, 0, 0]);

/** AMQP 1.0 §2.2: a protocol header we do not speak is answered with the one we do, then closed. */
export function answerForeignHeader(socket: Socket): void {
  socket.once("data", (chunk: Buffer) => {
    if (!isAmqpHeader(chunk)) socket.end(SASL_HEADER);
  });
}

function isAmqpHeader(chunk: Buffer): boolean {
  if (chunk.length < 8)
    return chunk.subarray(0, 4).toString("latin1") === "AMQP".slice(0, Math.min(4, chunk.length));
  return (
    chunk.subarray(0, 4).toString("latin1") === "AMQP" && (chunk[4] === 0 || chunk[4] === 3) && chunk[5] === 1
  );
}
