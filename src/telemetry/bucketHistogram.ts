/**
 * A Prometheus histogram for the per-message path, exported through a prom-client `Registry`.
 *
 * prom-client's `Histogram.observe(labels, v)` validates and hashes the label object, scans the
 * buckets and updates string-keyed maps on every call: about 1 µs, twice per message. Here the
 * caller takes a `Series` handle per label set once, and observing is a binary search and three
 * additions; the cumulative counts are built only when the registry is scraped. The registry
 * reads it like its own metrics (name, help, type, `get()`), default labels included.
 */
import type { Metric, MetricValueWithName, Registry } from "prom-client";

type Labels = Readonly<Record<string, string>>;

/** What the registry reads from `get()` (prom-client's own typing of `type` is an enum it never uses). */
export interface HistogramSnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: "histogram";
  readonly values: MetricValueWithName<string>[];
  readonly aggregator: "sum";
}

export class Series {
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Labels,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let lo = 0;
    let hi = bounds.length;
    // The first bound >= value (`le` is inclusive).
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bounds[mid]! < value) lo = mid + 1;
      else hi = mid;
    }
    this.counts[lo]! += 1;
    this.sum += value;
    this.count += 1;
  }
}

export class BucketHistogram {
  readonly type = "histogram";
  readonly aggregator = "sum";
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    // prom-client types its registry for its own classes; it only calls `get()` and reads the fields.
    registry.registerMetric(this as unknown as Metric);
  }

  /** The series of one label set: take it once, observe through it on the hot path. */
  with(labels: Labels): Series {
    const key = JSON.stringify(labels);
    let found = this.series.get(key);
    if (!found) this.series.set(key, (found = new Series(labels, this.bounds)));
    return found;
  }

  get(): Promise<HistogramSnapshot> {
    const values: MetricValueWithName<string>[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => {
        cumulative += s.counts[i]!;
        values.push({ labels: { le, ...s.labels }, value: cumulative, metricName: bucket });
      });
      values.push({ labels: { le: "+Inf", ...s.labels }, value: s.count, metricName: bucket });
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    });
  }
}
