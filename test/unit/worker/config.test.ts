import assert from "node:assert/strict";
import { loadConfig, selectSubscriptions } from "../../../src/worker/config.js";
import { isConfigError } from "../../../src/worker/errors.js";
import { topology } from "../../../src/topics/index.js";

function issuesOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(isConfigError(error), `expected a ConfigError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail("expected loadConfig to throw");
}

const cs =
  "Endpoint=sb://localhost:5672;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;";

describe("worker configuration", () => {
  it("has sensible defaults with nothing set (no connection: npm start uses the emulator)", () => {
    const c = loadConfig({});
    assert.equal(c.connection, undefined);
    assert.equal(c.subscriptions, undefined);
    assert.deepEqual(c.http, { port: 8080, host: "0.0.0.0" });
    assert.equal(c.logLevel, "info");
    assert.deepEqual(c.policy, { backoff: {} });
  });

  it("reads a connection string", () => {
    assert.deepEqual(loadConfig({ SERVICEBUS_CONNECTION_STRING: cs }).connection, {
      kind: "connectionString",
      connectionString: cs,
    });
  });

  it("reads a namespace with the default credential or managed identity", () => {
    assert.deepEqual(loadConfig({ SERVICEBUS_NAMESPACE: "contoso.servicebus.windows.net" }).connection, {
      kind: "namespace",
      namespace: "contoso.servicebus.windows.net",
      credential: "default",
      clientId: undefined,
    });
    const mi = loadConfig({
      SERVICEBUS_NAMESPACE: "contoso.servicebus.windows.net",
      SBW_CREDENTIAL: "managed-identity",
      AZURE_CLIENT_ID: "abc",
    }).connection;
    assert.equal(mi?.kind === "namespace" && mi.credential, "managed-identity");
  });

  it("reads overrides, the subscription list and port 0", () => {
    const c = loadConfig({
      SBW_SUBSCRIPTIONS: "orders/fulfillment, orders/audit",
      SBW_CONCURRENCY: "4",
      SBW_MAX_CONCURRENT_SESSIONS: "2",
      SBW_DRAIN_TIMEOUT_MS: "0",
      SBW_RETRY_BASE_DELAY_MS: "5",
      SBW_RETRY_MAX_DELAY_MS: "50",
      SBW_MAX_ATTEMPTS: "3",
      SBW_HTTP_PORT: "0",
    });
    assert.deepEqual(c.subscriptions, ["orders/fulfillment", "orders/audit"]);
    assert.deepEqual(c.policy, {
      concurrency: 4,
      maxConcurrentSessions: 2,
      drainTimeoutMs: 0,
      maxAttempts: 3,
      backoff: { baseMs: 5, maxMs: 50 },
    });
    assert.equal(c.http.port, 0);
    assert.equal(loadConfig({ SBW_HTTP_PORT: "off" }).http.port, undefined);
  });

  it("chooses the ledger, schedules and SDK settings, with defaults; zero is a value, not unset", () => {
    const d = loadConfig({});
    assert.deepEqual(d.jobs.ledger, { kind: "memory" });
    assert.equal(d.schedules.enabled, true);
    assert.deepEqual(d.serviceBus, { timeoutMs: 60_000, maxRetries: 3, retryDelayMs: 1_000 });
    assert.deepEqual(
      [d.maxLockRenewalMs, d.livenessTimeoutMs, d.sessionAcceptTimeoutMs, d.closeTimeoutMs],
      [3_600_000, 120_000, 5_000, 10_000],
    );
    assert.equal(loadConfig({ SBW_CLOSE_TIMEOUT_MS: "2500" }).closeTimeoutMs, 2_500);
    assert.deepEqual([d.jobs.leaseMs, d.jobs.progressIntervalMs], [30_000, 1_000]);
    assert.deepEqual(loadConfig({ REDIS_URL: "redis://r:6379" }).jobs.ledger, {
      kind: "redis",
      url: "redis://r:6379",
      prefix: "sbw:ledger:",
    });
    assert.deepEqual(loadConfig({ REDIS_URL: "redis://r:6379", SBW_LEDGER: "memory" }).jobs.ledger, {
      kind: "memory",
    });
    assert.deepEqual(loadConfig({ SBW_LEDGER: "off" }).jobs.ledger, { kind: "off" });
    assert.deepEqual(loadConfig({ REDIS_URL: "redis://r:6379", SBW_LEDGER_TIMEOUT_MS: "800" }).jobs.ledger, {
      kind: "redis",
      url: "redis://r:6379",
      prefix: "sbw:ledger:",
      commandTimeoutMs: 800,
    });
    assert.equal(loadConfig({ SBW_SCHEDULES: "off" }).schedules.enabled, false);
    assert.equal(loadConfig({ SBW_SERVICEBUS_MAX_RETRIES: "0" }).serviceBus.maxRetries, 0);
  });

  it("treats empty values as unset", () => {
    assert.equal(
      loadConfig({ SBW_CONCURRENCY: "", SERVICEBUS_CONNECTION_STRING: " " }).connection,
      undefined,
    );
  });

  it("reads an SMTP URL for the reference e-mails and refuses anything else", () => {
    assert.equal(
      loadConfig({ SBW_SMTP_URL: "smtps://mailer:s%40cret@smtp.example.com:465" }).reference.smtpUrl,
      "smtps://mailer:s%40cret@smtp.example.com:465",
    );
    assert.equal(loadConfig({}).reference.smtpUrl, undefined);
    const [issue] = issuesOf({ SBW_SMTP_URL: "smtp//mailer:hunter2@smtp.example.com" });
    assert.match(issue!, /^SBW_SMTP_URL: expected smtp:\/\/\[user:password@\]host\[:port\]/);
    assert.doesNotMatch(issue!, /hunter2/, "the password is never echoed");
  });

  it("names the key, the expected form and the value in each error", () => {
    assert.deepEqual(issuesOf({ SBW_CONCURRENCY: "lots" }), [
      'SBW_CONCURRENCY: expected a positive integer, got "lots"',
    ]);
    assert.deepEqual(issuesOf({ SBW_CONCURRENCY: "0" }), [
      'SBW_CONCURRENCY: expected a positive integer, got "0"',
    ]);
    assert.deepEqual(issuesOf({ SBW_DRAIN_TIMEOUT_MS: "30s" }), [
      'SBW_DRAIN_TIMEOUT_MS: expected a non-negative integer (milliseconds), got "30s"',
    ]);
    // Zero would leave every close behind at once, healthy or not.
    assert.deepEqual(issuesOf({ SBW_CLOSE_TIMEOUT_MS: "0" }), [
      'SBW_CLOSE_TIMEOUT_MS: expected a positive integer (milliseconds), got "0"',
    ]);
    assert.deepEqual(issuesOf({ SBW_HTTP_PORT: "70000" }), [
      'SBW_HTTP_PORT: expected a TCP port 0-65535 or off, got "70000"',
    ]);
    assert.match(
      issuesOf({ SBW_SUBSCRIPTIONS: "orders" })[0]!,
      /^SBW_SUBSCRIPTIONS: expected a comma-separated list of topic\/subscription/,
    );
    assert.match(issuesOf({ SBW_LOG_LEVEL: "loud" })[0]!, /^SBW_LOG_LEVEL: expected one of fatal, error/);
  });

  it("reports every invalid key at once", () => {
    assert.equal(issuesOf({ SBW_CONCURRENCY: "x", SBW_MAX_ATTEMPTS: "y", SBW_HTTP_PORT: "z" }).length, 3);
  });

  it("never echoes a connection string", () => {
    const [issue] = issuesOf({ SERVICEBUS_CONNECTION_STRING: "SharedAccessKey=secret" });
    assert.match(issue!, /^SERVICEBUS_CONNECTION_STRING: expected a connection string with Endpoint=sb:\/\//);
    assert.doesNotMatch(issue!, /secret/);
  });

  it("rejects both a connection string and a namespace", () => {
    assert.match(
      issuesOf({ SERVICEBUS_CONNECTION_STRING: cs, SERVICEBUS_NAMESPACE: "a.b.c" })[0]!,
      /only one of them/,
    );
  });

  it("rejects a maximum delay below the base delay", () => {
    assert.match(
      issuesOf({ SBW_RETRY_BASE_DELAY_MS: "100", SBW_RETRY_MAX_DELAY_MS: "10" })[0]!,
      /^SBW_RETRY_MAX_DELAY_MS: expected at least SBW_RETRY_BASE_DELAY_MS/,
    );
  });

  describe("subscription selection", () => {
    const all = ["orders/fulfillment", "orders/audit", "notifications/email", "reports/generate"];

    it("defaults to every subscription with handlers, policies resolved", () => {
      const b = selectSubscriptions(topology, ["orders/audit", "reports/generate"], loadConfig({}));
      assert.deepEqual(
        b.map((x) => x.key),
        ["orders/audit", "reports/generate"],
      );
      assert.equal(b[0]!.policy.concurrency, 32);
      assert.equal(b[1]!.policy.maxAttempts, 3);
    });

    it("applies environment overrides over topology policies", () => {
      const [b] = selectSubscriptions(
        topology,
        all,
        loadConfig({ SBW_SUBSCRIPTIONS: "orders/audit", SBW_CONCURRENCY: "2" }),
      );
      assert.equal(b!.policy.concurrency, 2);
      const [noDrain] = selectSubscriptions(
        topology,
        all,
        loadConfig({ SBW_SUBSCRIPTIONS: "orders/audit", SBW_DRAIN_TIMEOUT_MS: "0" }),
      );
      assert.equal(noDrain!.policy.drainTimeoutMs, 0, "0 overrides, it does not fall back");
    });

    it("names unknown subscriptions and those without handlers", () => {
      assert.throws(
        () =>
          selectSubscriptions(
            topology,
            ["orders/audit"],
            loadConfig({ SBW_SUBSCRIPTIONS: "orders/nope,reports/generate" }),
          ),
        (error: unknown) =>
          isConfigError(error) &&
          /unknown subscription "orders\/nope" \(known: orders\/fulfillment/.test(error.issues[0]!) &&
          /"reports\/generate" has no handlers/.test(error.issues[1]!),
      );
    });
  });
});
