// `xensim bench display`, embedded, on a small connector for a short while: the result has the
// shape the README table is rendered from and every flip completed (no figure is asserted).
import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { displayTable, runDisplayBench } from "./display.js";

const root = resolve(import.meta.dirname, "..", "..");
const entry = (svc: string) => join(root, "services", svc, "dist", "main.js");

test("embedded display bench: flips measured, table rendered", { timeout: 120_000 }, async () => {
  const r = await runDisplayBench({
    entries: {
      hypervisor: entry("hypervisor"),
      xenstored: entry("xenstored"),
      displback: entry("displback"),
      pageServer: entry("page-server"),
    },
    resolutions: [{ width: 64, height: 48 }],
    placements: ["embedded"],
    durationMs: 300,
    rampMs: 50,
  });
  assert.equal(r.benchmark, "display");
  assert.equal(r.runs.length, 1);
  const run = r.runs[0]!;
  assert.equal(run.placement, "embedded");
  assert.equal(run.buffer_pages, 3);
  assert.equal(run.errors, 0);
  assert.ok(run.flips.ops > 0, "flips completed");
  assert.ok(r.copy_ceiling[0]!.frames_per_s > 0);
  assert.match(displayTable(r), /\| embedded \| 64×48 \| 3 \|/);
});
