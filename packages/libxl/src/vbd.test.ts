import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { vbdDevid, vbdDirectories } from "./vbd.js";

describe("libxl vbd directories", () => {
  it("numbers xvd names as Linux/libxl do", () => {
    assert.equal(vbdDevid("xvda"), 51712);
    assert.equal(vbdDevid("xvdb"), 51728);
    assert.equal(vbdDevid("xvdp"), 51952);
    assert.equal(vbdDevid("xvdq"), (1 << 28) + 16 * 256);
    assert.equal(vbdDevid("xvdaa"), (1 << 28) + 26 * 256);
    assert.equal(vbdDevid("768"), 768);
    assert.throws(() => vbdDevid("hda1"), RangeError);
  });

  it("writes both directories with libxl's keys and permissions", () => {
    const d = vbdDirectories({ frontend: 3, vdev: "xvdb", params: "memory:size=1M", mode: "r" });
    assert.equal(d.devid, 51728);
    assert.equal(d.backendPath, "/local/domain/0/backend/vbd/3/51728");
    assert.equal(d.frontendPath, "/local/domain/3/device/vbd/51728");
    assert.deepEqual(d.ops.slice(0, 2), [
      { kind: "mkdir", path: d.backendPath, perms: ["n0", "r3"] },
      { kind: "mkdir", path: d.frontendPath, perms: ["n3", "r0"] },
    ]);
    const w = new Map(d.ops.filter((o) => o.kind === "write").map((o) => [o.path, o.value]));
    for (const [k, v] of [
      ["frontend", d.frontendPath],
      ["frontend-id", "3"],
      ["online", "1"],
      ["state", "1"],
      ["params", "memory:size=1M"],
      ["mode", "r"],
      ["type", "phy"],
      ["dev", "xvdb"],
    ])
      assert.equal(w.get(`${d.backendPath}/${k}`), v, k);
    for (const [k, v] of [
      ["backend", d.backendPath],
      ["backend-id", "0"],
      ["state", "1"],
      ["virtual-device", "51728"],
    ])
      assert.equal(w.get(`${d.frontendPath}/${k}`), v, k);
    // The mkdirs (with permissions) come before any write below them.
    const firstWrite = d.ops.findIndex((o) => o.kind === "write");
    assert.equal(firstWrite, 2);
  });
});
