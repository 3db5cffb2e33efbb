/**
 * Stored message bytes live in slabs owned by the namespace, not in Node's shared Buffer pool:
 * a pool slab also holds short-lived buffers (network chunks, encodings), and one live message
 * slice pins the whole slab, which doubled the memory per queued message. Messages in one slab
 * are mostly enqueued together and consumed together, so slabs free up as queues drain.
 */
const SLAB_BYTES = 64 * 1024;
/** Larger messages get a buffer of their own. */
const OWN_BUFFER_ABOVE = 16 * 1024;

export class SlabAllocator {
  private slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private offset = 0;

  /** Copies `parts` into one buffer that shares nothing with short-lived memory. */
  copy(parts: readonly Buffer[]): Buffer {
    let total = 0;
    for (const p of parts) total += p.length;
    let out: Buffer;
    if (total > OWN_BUFFER_ABOVE) {
      out = Buffer.allocUnsafeSlow(total);
    } else {
      if (this.offset + total > SLAB_BYTES) {
        this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
        this.offset = 0;
      }
      out = this.slab.subarray(this.offset, this.offset + total);
      this.offset += (total + 7) & ~7;
    }
    let at = 0;
    for (const p of parts) at += p.copy(out, at);
    return out;
  }
}

/** For callers without a namespace at hand (rare edits): a buffer of its own. */
export const ownBuffer = {
  copy(parts: readonly Buffer[]): Buffer {
    return Buffer.concat(
      parts,
      parts.reduce((n, p) => n + p.length, 0),
    );
  },
};
