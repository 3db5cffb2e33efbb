import { MemoryLedgerStore } from "../../../src/worker/ledger/memory.js";
import { ledgerContract } from "./contract.js";

ledgerContract("memory", () => {
  let now = 1_700_000_000_000;
  const store = new MemoryLedgerStore({ now: () => now });
  return Promise.resolve({
    store,
    advance: (ms: number) => {
      now += ms;
      return Promise.resolve();
    },
  });
});
