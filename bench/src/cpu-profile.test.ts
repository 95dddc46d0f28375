// The CPU-profile cutter on a synthetic profile: samples outside the window are left out, idle
// counts against the busy share, self time is summed per frame.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type CpuProfile, threadTime, topFramesMarkdown } from "./cpu-profile.js";

const frame = (functionName: string, url = "") => ({ functionName, url, lineNumber: 9 });

function profile(): CpuProfile {
  // Samples every 100 µs from t = 1000: nodes 2 (idle), 3 (takeResponse), 4 (copy).
  const samples = [3, 3, 4, 2, 3, 4, 4, 2, 3, 3];
  return {
    nodes: [
      { id: 1, callFrame: frame("(root)") },
      { id: 2, callFrame: frame("(idle)") },
      { id: 3, callFrame: frame("takeResponse", "file:///x/packages/blkfront/dist/blkfront.js") },
      { id: 4, callFrame: frame("copyInBytes", "file:///x/packages/blkfront/dist/io.js") },
    ],
    startTime: 1000,
    endTime: 2000,
    samples,
    timeDeltas: samples.map(() => 100),
  };
}

describe("threadTime", () => {
  it("cuts to the window, sums self time per frame and counts idle against busy", () => {
    const t = threadTime(
      { thread: "main", file: "CPU.x.0.001.cpuprofile", profile: profile() },
      { from_us: 1100, to_us: 1900 },
    );
    // Samples at 1100…1900 (the first 9): takeResponse ×4, copyInBytes ×3, idle ×2, 100 µs each.
    assert.equal(t.window_ms, 0.9);
    assert.equal(t.top[0]!.frame, "takeResponse blkfront/dist/blkfront.js:10");
    assert.equal(t.top[0]!.self_pct, 44.4);
    assert.equal(t.top[1]!.frame, "copyInBytes blkfront/dist/io.js:10");
    assert.equal(t.busy_fraction, 0.778);
    const md = topFramesMarkdown([t]);
    assert.match(md, /main \(busy 78 %\)/);
    assert.match(md, /44.4 % `takeResponse/);
  });
  it("a window with no samples gives an empty, idle thread", () => {
    const t = threadTime(
      { thread: "blkback", file: "f", profile: profile() },
      { from_us: 5000, to_us: 6000 },
    );
    assert.equal(t.window_ms, 0);
    assert.equal(t.busy_fraction, 0);
    assert.deepEqual(t.top, []);
  });
});
