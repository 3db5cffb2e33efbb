import assert from "node:assert/strict";
import { z } from "zod";
import {
  defineHandlers,
  type HandlerContext,
  type SessionHandlerContext,
} from "../../../src/handlers/registry.js";
import { defineTopic } from "../../../src/topics/dsl.js";
import { topology, type Topology } from "../../../src/topics/index.js";

const tasks = defineTopic({
  name: "tasks",
  messages: { Ping: z.object({ n: z.number() }), Named: z.object({ name: z.string() }) },
  sessionId: (m) => (m.subject === "Ping" ? String(m.payload.n) : m.payload.name),
  subscriptions: {
    plain: { subjects: ["Ping"] },
    ordered: { requiresSession: true, sessionState: z.object({ count: z.number() }) },
  },
});
const small = { tasks } as const;

describe("handler registry", () => {
  it("looks handlers up by topic, subscription and subject", () => {
    const ping = async (): Promise<void> => {};
    const registry = defineHandlers(small, { tasks: { plain: { Ping: ping } } });
    assert.equal(registry.lookup("tasks", "plain", "Ping"), ping);
    assert.equal(registry.lookup("tasks", "plain", "Named"), undefined);
    assert.equal(registry.lookup("tasks", "plain", undefined), undefined);
    assert.deepEqual(registry.subscriptions(), ["tasks/plain"]);
  });

  it("rejects unknown topics, subscriptions and subjects at run time too", () => {
    const loose = small as unknown as Record<string, never>;
    const h = async (): Promise<void> => {};
    assert.throws(() => defineHandlers(loose, { nope: {} }), /unknown topic "nope"/);
    assert.throws(
      () => defineHandlers(small, { tasks: { nope: {} } } as never),
      /unknown subscription "tasks\/nope"/,
    );
    assert.throws(
      () => defineHandlers(small, { tasks: { plain: { Named: h } } } as never),
      /does not admit subject "Named"/,
    );
  });

  it("types payloads and contexts from the topology (checked by npm run typecheck)", () => {
    // Never called: these calls exist for the compiler (several would also fail at run time).
    const typeOnly = (): void => {
      defineHandlers(small, {
        tasks: {
          plain: {
            Ping: async (payload, ctx) => {
              const n: number = payload.n;
              const c: HandlerContext<typeof small> = ctx;
              void n;
              void c;
              // @ts-expect-error plain subscriptions have no session access
              void ctx.session;
              await Promise.resolve();
            },
            // @ts-expect-error `plain` admits only Ping
            Named: async () => {},
          },
          ordered: {
            Named: async (payload, ctx) => {
              const s: SessionHandlerContext<typeof small, { count: number }> = ctx;
              const state = await ctx.session.getState();
              await ctx.session.setState({ count: (state?.count ?? 0) + payload.name.length });
              // @ts-expect-error session state is typed by the subscription's schema
              await ctx.session.setState({ count: "one" });
              void s;
            },
          },
        },
      });

      defineHandlers(topology, {
        orders: {
          audit: {
            // @ts-expect-error a handler whose payload does not match its contract does not compile
            OrderPlaced: async (payload: { sku: number }) => {
              void payload;
              await Promise.resolve();
            },
            OrderShipped: async (payload, ctx) => {
              // @ts-expect-error OrderShipped has no `total`
              void payload.total;
              // @ts-expect-error publish is typed by the topology: wrong payload
              await ctx.publish("notifications", "EmailRequested", { to: 1 });
              // @ts-expect-error publish is typed by the topology: unknown subject
              await ctx.publish("orders", "OrderLost", {});
            },
          },
        },
      });
      // @ts-expect-error unknown topic
      defineHandlers(topology, { invoices: {} });
    };
    const t: Topology = topology;
    assert.equal(typeof typeOnly, "function");
    assert.ok(t.orders.subscriptions.fulfillment.requiresSession);
  });
});
