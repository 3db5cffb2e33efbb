/**
 * Table-driven checks for invalid configs: each case edits the official config and names the exact
 * JSON path of the error, text of the value as shown and text of the allowed form.
 */
import assert from "node:assert/strict";
import {
  isEmulatorConfigError,
  parseEmulatorConfig,
  type LoadConfigOptions,
} from "../../../src/emulator/config/index.js";

// Edit paths (slash-separated, for `officialWith`) and the JSON paths errors report for them.
export const NS = "UserConfig/Namespaces/0";
export const Q = `${NS}/Queues/0`;
export const QP = `${Q}/Properties`;
export const T = `${NS}/Topics/0`;
export const S = `${T}/Subscriptions`;
export const R = `${S}/0/Rules/0/Properties`;
export const SQL = `${S}/2/Rules/0/Properties`;

export const P_NS = "UserConfig.Namespaces[0]";
export const P_QP = `${P_NS}.Queues[0].Properties`;
export const P_T = `${P_NS}.Topics[0]`;
export const P_S = `${P_T}.Subscriptions`;
export const P_R = `${P_S}[0].Rules[0].Properties`;
export const P_SQL = `${P_S}[2].Rules[0].Properties`;

export interface BadCase {
  readonly name: string;
  readonly config: unknown;
  readonly options?: LoadConfigOptions;
  readonly path: string;
  /** Text of the value as the message shows it. */
  readonly shown: string;
  /** Text that must appear after "allowed: ". */
  readonly allowed: string;
}

export const subscription = (name: string): unknown => ({ Name: name });
export const queues = (n: number): unknown[] => Array.from({ length: n }, (_, i) => ({ Name: `q${i}` }));

/** One `it` per case: an EmulatorConfigError with that path, a one-line message, value and allowed form. */
export function rejectsEach(cases: readonly BadCase[]): void {
  for (const c of cases) {
    it(`rejects ${c.name} at ${c.path}`, () => {
      let caught: unknown;
      try {
        parseEmulatorConfig(c.config, c.options);
      } catch (e) {
        caught = e;
      }
      assert.ok(isEmulatorConfigError(caught), `expected an EmulatorConfigError, got ${String(caught)}`);
      assert.equal(caught.path, c.path);
      assert.equal(caught.code, "InvalidEmulatorConfig");
      assert.ok(caught.message.startsWith(`Invalid emulator config at ${c.path}: `), caught.message);
      assert.ok(caught.message.includes(c.shown), `${caught.message}\n  should show: ${c.shown}`);
      const allowed = caught.message.slice(caught.message.indexOf("; allowed: ") + "; allowed: ".length);
      assert.ok(allowed.includes(c.allowed), `${caught.message}\n  should allow: ${c.allowed}`);
      assert.ok(!caught.message.includes("\n"), "message is one line");
    });
  }
}
