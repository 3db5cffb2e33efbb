/**
 * Per-subscription state for the telemetry hooks that run on every message (metrics, spans),
 * found without building a key: a map by topic, then by subscription (the binding's own strings,
 * hashed once), and the last hit is checked first since consecutive events mostly belong to the
 * same subscription. `make` runs once per subscription.
 */
export function bySubscription<T>(
  make: (topic: string, subscription: string) => T,
): (e: { readonly topic: string; readonly subscription: string }) => T {
  const byTopic = new Map<string, Map<string, T>>();
  let last: { readonly topic: string; readonly subscription: string; readonly value: T } | undefined;
  return (e) => {
    if (last && e.topic === last.topic && e.subscription === last.subscription) return last.value;
    let subscriptions = byTopic.get(e.topic);
    if (!subscriptions) byTopic.set(e.topic, (subscriptions = new Map<string, T>()));
    let value = subscriptions.get(e.subscription);
    if (value === undefined) subscriptions.set(e.subscription, (value = make(e.topic, e.subscription)));
    last = { topic: e.topic, subscription: e.subscription, value };
    return value;
  };
}
