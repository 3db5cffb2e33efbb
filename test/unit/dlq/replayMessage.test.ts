import assert from "node:assert/strict";
import { replayMessageId } from "../../../src/cli/dlq/replayMessage.js";

describe("dlq replay MessageId", () => {
  it("differs from the original id", () => {
    assert.notEqual(replayMessageId("order-1", "orders/audit", 7n), "order-1");
  });
  it("is the same for the same dead letter (a crashed replay repeated is deduplicated)", () => {
    assert.equal(
      replayMessageId("order-1", "orders/audit", 7n),
      replayMessageId("order-1", "orders/audit", 7n),
    );
    assert.equal(replayMessageId("order-1", "orders/audit", 7n), "order-1~orders/audit~dlq7");
  });
  it("differs per DLQ sequence number and per source entity (subscriptions share sequence numbers)", () => {
    const ids = new Set([
      replayMessageId("order-1", "orders/audit", 7n),
      replayMessageId("order-1", "orders/audit", 8n),
      replayMessageId("order-1", "orders/fulfillment", 7n),
    ]);
    assert.equal(ids.size, 3);
  });
  it("stays within 128 characters by hashing long ids, deterministically", () => {
    const long = "x".repeat(128);
    const id = replayMessageId(long, "orders/audit", 72057594037927936n);
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(id, replayMessageId(long, "orders/audit", 72057594037927936n));
    assert.notEqual(id, replayMessageId(long, "orders/audit", 72057594037927937n));
  });
});
