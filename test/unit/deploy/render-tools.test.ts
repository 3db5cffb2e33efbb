import assert from "node:assert/strict";
import { applyPatch, diff, jsonEqual, pointerSegment } from "../../../src/deploy/patch.js";
import { toYaml, toYamlDocuments } from "../../../src/deploy/yaml.js";

describe("YAML writer", () => {
  it("writes plain scalars only where no YAML 1.1 or 1.2 reader could take them for something else", () => {
    const text = toYaml({
      plain: "orders/fulfillment",
      quantity: "250m",
      bool: "true",
      norway: "no",
      number: "8",
      float: "1.5",
      date: "2024-01-01",
      colon: "http://x:1",
      empty: "",
      n: 3,
      t: false,
      nothing: null,
    });
    assert.equal(
      text,
      [
        "plain: orders/fulfillment",
        "quantity: 250m",
        'bool: "true"',
        'norway: "no"',
        'number: "8"',
        'float: "1.5"',
        'date: "2024-01-01"',
        'colon: "http://x:1"',
        'empty: ""',
        '"n": 3',
        "t: false",
        "nothing: null",
        "",
      ].join("\n"),
    );
  });

  it("writes nested collections in block style, sequences at their key's indent", () => {
    assert.equal(
      toYaml({ a: [{ b: 1, c: ["x"] }, [], {}], d: { e: { f: "g" } } }),
      "a:\n- b: 1\n  c:\n  - x\n- []\n- {}\nd:\n  e:\n    f: g\n",
    );
  });

  it("writes multi-line strings as literal blocks and falls back to quotes when a block would alter them", () => {
    assert.equal(toYaml({ expr: "a\nb" }), "expr: |-\n  a\n  b\n");
    assert.equal(toYaml({ expr: "a\nb\n" }), "expr: |\n  a\n  b\n");
    assert.equal(toYaml({ expr: "a \nb" }), 'expr: "a \\nb"\n');
  });

  it("skips undefined members and refuses values JSON has no form for", () => {
    assert.equal(toYaml({ a: undefined, b: 1 }), "b: 1\n");
    assert.throws(() => toYaml({ f: () => 1 }), /function/);
    assert.throws(() => toYaml({ n: Number.NaN }), /NaN/);
  });

  it("heads a stream with a comment and separates documents", () => {
    assert.equal(toYamlDocuments([{ a: 1 }, { b: 2 }], "one\ntwo"), "# one\n# two\n---\na: 1\n---\nb: 2\n");
  });
});

describe("JSON patch", () => {
  it("escapes pointer segments (annotation keys contain '/')", () => {
    assert.equal(pointerSegment("azure.workload.identity/client-id"), "azure.workload.identity~1client-id");
    assert.equal(pointerSegment("a~b"), "a~0b");
  });

  it("diffs field by field and round-trips", () => {
    const from = {
      metadata: { annotations: { "x/y": "1" }, gone: true },
      list: [1, 2],
      grow: [1],
      same: { a: 1 },
    };
    const to = {
      metadata: { annotations: { "x/y": "2" }, added: "z" },
      list: [1, 3],
      grow: [1, 2],
      same: { a: 1 },
    };
    const ops = diff(from, to);
    assert.deepEqual(ops, [
      { op: "remove", path: "/metadata/gone" },
      { op: "replace", path: "/metadata/annotations/x~1y", value: "2" },
      { op: "add", path: "/metadata/added", value: "z" },
      { op: "replace", path: "/list/1", value: 3 },
      { op: "replace", path: "/grow", value: [1, 2] },
    ]);
    assert.ok(jsonEqual(applyPatch(from, ops), to));
    assert.deepEqual(from.metadata.annotations, { "x/y": "1" }, "the input is not modified");
  });

  it("refuses a path that does not exist", () => {
    assert.throws(() => applyPatch({ a: {} }, [{ op: "replace", path: "/b/c", value: 1 }]), /does not exist/);
  });
});
