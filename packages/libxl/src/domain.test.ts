import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { domainSkeleton, GUEST_WRITABLE_NODES, STORE_GFN } from "./domain.js";

describe("libxl domain skeleton", () => {
  const sk = domainSkeleton({
    domid: 5,
    uuid: "u-1",
    name: "g",
    type: "hvm",
    memoryMib: 64,
    maxmemMib: 128,
    storePort: 9,
    startTimeSeconds: 12.345,
    xensim: { workload: "idle" },
  });
  const perms = new Map(sk.ops.flatMap((o) => (o.kind === "mkdir" && o.perms ? [[o.path, o.perms]] : [])));
  const values = new Map(sk.ops.flatMap((o) => (o.kind === "write" ? [[o.path, o.value]] : [])));

  it("gives dom0 the home, /vm and /libxl, the guest read access, and its own writable nodes", () => {
    assert.deepEqual(perms.get("/local/domain/5"), ["n0", "r5"]);
    assert.deepEqual(perms.get("/vm/u-1"), ["n0", "r5"]);
    assert.deepEqual(perms.get("/libxl/5"), ["n0"]);
    for (const k of GUEST_WRITABLE_NODES) assert.deepEqual(perms.get(`/local/domain/5/${k}`), ["n5"], k);
    // the home's directories are created before anything is written below them
    const firstWrite = sk.ops.findIndex((o) => o.kind === "write");
    assert.ok(sk.ops.slice(0, firstWrite).some((o) => o.path === "/local/domain/5"));
  });

  it("writes libxl's keys: store page and port, memory, /vm and the xensim keys", () => {
    for (const [k, v] of [
      ["/local/domain/5/name", "g"],
      ["/local/domain/5/domid", "5"],
      ["/local/domain/5/vm", "/vm/u-1"],
      ["/local/domain/5/store/port", "9"],
      ["/local/domain/5/store/ring-ref", String(STORE_GFN)],
      ["/local/domain/5/memory/target", "65536"],
      ["/local/domain/5/memory/static-max", "131072"],
      ["/libxl/5/type", "hvm"],
      ["/vm/u-1/uuid", "u-1"],
      ["/vm/u-1/image/ostype", "hvm"],
      ["/vm/u-1/start_time", "12.35"],
      ["/vm/u-1/xensim/workload", "idle"],
    ] as const)
      assert.equal(values.get(k), v, k);
  });
});
