/**
 * Duplicate detection: MessageIds seen inside the entity's history window. Ids are kept in
 * arrival order, so pruning only ever looks at the oldest entries.
 */
export class DuplicateWindow {
  private readonly seenAt = new Map<string, number>();

  /** True when `id` was seen within `windowMs` before `now`; otherwise records it. */
  seen(id: string, now: number, windowMs: number): boolean {
    for (const [k, at] of this.seenAt) {
      if (at > now - windowMs) break;
      this.seenAt.delete(k);
    }
    if (this.seenAt.has(id)) return true;
    this.seenAt.set(id, now);
    return false;
  }
}
