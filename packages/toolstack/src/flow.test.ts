// The flow engine alone: order, logging, undo in reverse, injected failures, best-effort steps.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FlowError, type FlowStep, InjectedFailure, runFlow } from "./flow.js";

function deps() {
  let t = 0;
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg: string }> = [];
  const log = (level: string) => (obj: object, msg: string) =>
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return {
    lines,
    d: {
      clock: { now: () => (t += 5), wallSeconds: () => 0, sleep: async () => {} },
      log: { info: log("info"), warn: log("warn"), error: log("error") },
    },
  };
}

describe("runFlow", () => {
  const trail: string[] = [];
  const step = (name: string, fail = false): FlowStep => ({
    name,
    run: async (ctx) => {
      trail.push(name);
      if (name === "b") ctx.domid = 7;
      ctx.onUndo(async () => {
        trail.push(`undo ${name}`);
      });
      if (fail) throw new Error(`${name} broke`);
    },
  });

  it("runs every step in order and logs name, domid, outcome and duration", async () => {
    trail.length = 0;
    const { lines, d } = deps();
    const r = await runFlow("f", [step("a"), step("b"), step("c")], d);
    assert.deepEqual(trail, ["a", "b", "c"]);
    assert.deepEqual(
      r.map((x) => [x.step, x.domid, x.outcome, x.ms]),
      [
        ["a", undefined, "ok", 5],
        ["b", 7, "ok", 5],
        ["c", 7, "ok", 5],
      ],
    );
    assert.deepEqual(lines[1], {
      level: "info",
      obj: { flow: "f", step: "b", domid: 7, outcome: "ok", ms: 5 },
      msg: "f: b ok",
    });
  });

  it("a failing step undoes what was done, in reverse, and throws a FlowError with the records", async () => {
    trail.length = 0;
    const { lines, d } = deps();
    await assert.rejects(
      runFlow("f", [step("a"), step("b"), step("c", true), step("d")], d),
      (e: unknown) => {
        assert.ok(e instanceof FlowError);
        assert.equal(e.step, "c");
        assert.match(e.message, /f failed at c: c broke/);
        assert.deepEqual(
          e.records.map((r) => `${r.step}:${r.outcome}`),
          ["a:ok", "b:ok", "c:failed", "undo c:undone", "undo b:undone", "undo a:undone"],
        );
        return true;
      },
    );
    assert.deepEqual(trail, ["a", "b", "c", "undo c", "undo b", "undo a"]);
    assert.equal(lines.find((l) => l.obj.outcome === "failed")?.level, "warn");
  });

  it("failAt injects a failure before the step runs; a failing undo is recorded and the rest still run", async () => {
    trail.length = 0;
    const { d } = deps();
    const bad: FlowStep = {
      name: "x",
      run: async (ctx) => {
        ctx.onUndo(async () => {
          throw new Error("cannot");
        });
      },
    };
    await assert.rejects(
      runFlow("f", [step("a"), bad, step("c")], d, { failAt: (s) => s === "c" }),
      (e: unknown) => {
        assert.ok(e instanceof FlowError && e.cause instanceof InjectedFailure);
        assert.deepEqual(
          e.records.map((r) => `${r.step}:${r.outcome}`),
          ["a:ok", "x:ok", "c:failed", "undo x:undo-failed", "undo a:undone"],
        );
        return true;
      },
    );
    assert.deepEqual(trail, ["a", "undo a"]);
  });

  it("best-effort steps record a failure and go on", async () => {
    trail.length = 0;
    const { d } = deps();
    const r = await runFlow("teardown", [{ ...step("a", true), continueOnError: true }, step("b")], d);
    assert.deepEqual(
      r.map((x) => `${x.step}:${x.outcome}`),
      ["a:failed", "b:ok"],
    );
  });
});
