/**
 * The namespace as `Emulator.snapshot()` reports it: per queue and subscription the message
 * counts by state (dead-lettered from its DLQ), and per topic its scheduled messages. A read-only
 * view of the namespace, kept apart from namespace.ts, which holds the entities and the send path.
 */
import type { EmulatorSnapshot, EntitySnapshot } from "../api.js";
import type { Entity } from "./entity.js";
import type { Queue, Topic } from "./namespace.js";

export function snapshotOf(
  queues: ReadonlyMap<string, Queue>,
  topics: ReadonlyMap<string, Topic>,
  connections: number,
): EmulatorSnapshot {
  const entities: EntitySnapshot[] = [];
  const add = (name: string, kind: "queue" | "subscription", e: Entity): void => {
    const c = e.counts();
    const dlq = e.deadLetterQueue!.counts();
    entities.push({
      name,
      kind,
      active: c.active,
      locked: c.locked,
      scheduled: c.scheduled,
      deferred: c.deferred,
      deadLettered: dlq.active + dlq.locked + dlq.deferred,
      sessions: c.sessions,
    });
  };
  for (const q of queues.values()) add(q.spec.name, "queue", q.entity);
  for (const t of topics.values()) {
    for (const s of t.subscriptions.values())
      add(`${t.spec.name}/Subscriptions/${s.spec.name}`, "subscription", s.entity);
  }
  const topicCounts = [...topics.values()].map((t) => ({ name: t.spec.name, scheduled: t.scheduled.size }));
  return { entities, topics: topicCounts, connections };
}
