// Table-driven tests of the engine: rows of (connection, transaction, request, expected reply, events).
// After every step the harness checks the store, restore(snapshot()), "failed requests change nothing"
// and journal replay; every test ends with a live-node count.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { XS_GET_QUOTA, XS_SET_QUOTA, XsType } from "@xensim/abi";
import { XenstoreEngine } from "./engine.js";
import { Harness, payloadOf, renderReply, s } from "./testing/harness.js";

/** Gives domain `d` its home /local/domain/<d>, owned by it (as the toolstack does). */
function home(d: number) {
  return [
    s("d0", "MKDIR", [`/local/domain/${d}`], "OK"),
    s("d0", "SET_PERMS", [`/local/domain/${d}`, `n${d}`], "OK"),
  ];
}

describe("initial tree", () => {
  it("has /, /tool/xenstored, /local/domain and the special nodes, all dom0 n0", () => {
    const h = new Harness();
    h.run([
      s("d0", "DIRECTORY", ["/"], "tool|local"),
      s("d0", "DIRECTORY", ["/local"], "domain"),
      s("d0", "DIRECTORY", ["/tool"], "xenstored"),
      s("d0", "DIRECTORY", ["/local/domain"], ""),
      s("d0", "GET_PERMS", ["/"], "n0"),
      s("d0", "GET_PERMS", ["/local/domain"], "n0"),
      s("d0", "GET_PERMS", ["@releaseDomain"], "n0"),
      s("d0", "GET_PERMS", ["@introduceDomain"], "n0"),
      s("d0", "READ", ["/"], ""),
      s("d1", "READ", ["/"], "!EACCES"),
      s("d1", "DIRECTORY", ["/local/domain"], "!EACCES"),
      s("d0", "IS_DOMAIN_INTRODUCED", ["0"], "T"),
    ]);
    h.expectNodes(7);
  });
});

describe("read, write, mkdir, rm", () => {
  it("implicit mkdir, inherited permissions, no-op mkdir, rm semantics", () => {
    const h = new Harness();
    h.run([
      s("d0", "WRITE", ["/a/b/c", "v"], "OK"),
      s("d0", "DIRECTORY", ["/"], "tool|local|a"),
      s("d0", "READ", ["/a/b/c"], "v"),
      s("d0", "READ", ["/a/b"], ""),
      s("d0", "GET_PERMS", ["/a/b"], "n0"),
      s("d0", "WRITE", ["/a/b/d", "w"], "OK"),
      s("d0", "WRITE", ["/a/b/c", "v2"], "OK"),
      s("d0", "DIRECTORY", ["/a/b"], "c|d"),
      s("d0", "READ", ["/a/b/c"], "v2"),
      s("d0", "MKDIR", ["/a"], "OK"),
      s("d0", "MKDIR", ["/m/n"], "OK"),
      s("d0", "READ", ["/m/n"], ""),
      s("d0", "RM", ["/a/b"], "OK"),
      s("d0", "DIRECTORY", ["/a"], ""),
      s("d0", "READ", ["/a/b/c"], "!ENOENT"),
      s("d0", "RM", ["/a/b"], "OK"),
      s("d0", "RM", ["/x/y"], "!ENOENT"),
      s("d0", "RM", ["/"], "!EINVAL"),
      s("d0", "WRITE", ["/a", ""], "OK"),
      s("d0", "READ", ["/a"], ""),
      s("d0", "READ", ["/nope"], "!ENOENT"),
      s("d0", "DIRECTORY", ["/nope"], "!ENOENT"),
      s("d0", "GET_PERMS", ["/nope"], "!ENOENT"),
    ]);
    h.expectNodes(10);
  });

  it("keeps values as raw bytes (nul, 0xff) and children in insertion order", () => {
    const h = new Harness();
    const value = Uint8Array.of(0x78, 0, 0x79, 0xff);
    h.send("d0", "WRITE", ["/bin", value]);
    assert.deepEqual(h.send("d0", "READ", ["/bin"]).reply?.payload, value);
    for (const c of ["z", "a", "m"]) h.send("d0", "MKDIR", [`/bin/${c}`]);
    h.run([s("d0", "DIRECTORY", ["/bin"], "z|a|m"), s("d0", "RM", ["/bin/a"], "OK")]);
    h.run([s("d0", "MKDIR", ["/bin/a"], "OK"), s("d0", "DIRECTORY", ["/bin"], "z|m|a")]);
    h.expectNodes(11);
  });

  it("emits mutations only for what reaches the main tree, parents first", () => {
    const h = new Harness();
    const out = h.send("d0", "WRITE", ["/p/q/r", "x"]);
    assert.deepEqual(
      out.mutations.map((m) => (m.op === "domain" ? m.op : `${m.op} ${m.path}`)),
      ["set /p", "set /p/q", "set /p/q/r"],
    );
    assert.deepEqual(h.send("d0", "MKDIR", ["/p"]).mutations, []);
    assert.deepEqual(h.send("d0", "RM", ["/p/q"]).mutations, [{ op: "rm", path: "/p/q" }]);
    assert.deepEqual(h.send("d0", "RM", ["/p/q"]).mutations, []);
    h.expectNodes(8);
  });
});

describe("paths", () => {
  it("rejects bad names with EINVAL", () => {
    const h = new Harness();
    h.run([
      s("d0", "READ", [""], "!EINVAL"),
      s("d0", "READ", ["/tool/"], "!EINVAL"),
      s("d0", "READ", ["/local//domain"], "!EINVAL"),
      s("d0", "READ", ["/a b"], "!EINVAL"),
      s("d0", "READ", ["/a.b"], "!EINVAL"),
      s("d0", "READ", ["/a:b"], "!EINVAL"),
      s("d0", "READ", ["@releaseDomain"], "!EINVAL"),
      s("d0", "WRITE", ["@releaseDomain", "x"], "!EINVAL"),
      s("d0", "MKDIR", ["@x"], "!EINVAL"),
      s("d0", "RM", ["@releaseDomain"], "!EINVAL"),
      s("d0", "GET_PERMS", ["@nothing"], "!ENOENT"),
      s("d0", "READ", [payloadOf(["/tool"]).subarray(0, 5)], "!EINVAL"),
      s("d0", "READ", ["/tool", "extra"], "!EINVAL"),
      s("d0", "WRITE", [Uint8Array.of(0x2f, 0x61)], "!EINVAL"),
      s("d0", "DIRECTORY", [], "!EINVAL"),
      s("d0", "READ", ["/"], ""),
    ]);
    h.expectNodes(7);
  });

  it("makes relative paths relative to /local/domain/<domid>", () => {
    const h = new Harness();
    h.run([
      s("d0", "WRITE", ["name", "Domain-0"], "OK"),
      s("d0", "READ", ["/local/domain/0/name"], "Domain-0"),
      ...home(3),
      s("d3", "WRITE", ["device/vbd", "x"], "OK"),
      s("d0", "READ", ["/local/domain/3/device/vbd"], "x"),
      s("d3", "READ", ["device/vbd"], "x"),
      s("d3", "DIRECTORY", ["device"], "vbd"),
    ]);
    h.expectNodes(12);
  });

  it("limits absolute paths to XENSTORE_ABS_PATH_MAX for everyone", () => {
    const h = new Harness();
    h.run([
      s("d0", "WRITE", [`/${"a".repeat(3071)}`, "x"], "OK"),
      s("d0", "WRITE", [`/${"a".repeat(3072)}`, "x"], "!EINVAL"),
      s("d0", "RM", [`/${"a".repeat(3071)}`], "OK"),
    ]);
    h.expectNodes(7);
  });

  it("checks path-max for unprivileged callers after the /local/domain/<id>/ prefix", () => {
    const h = new Harness({ quotas: { pathMax: 30 } });
    h.run([
      ...home(1),
      s("d1", "WRITE", ["a".repeat(29), "x"], "OK"),
      s("d1", "WRITE", ["a".repeat(30), "x"], "!EINVAL"),
      s("d1", "WRITE", [`/local/domain/1/${"b".repeat(29)}`, "x"], "OK"),
      s("d1", "READ", [`/local/domain/1/${"b".repeat(30)}`], "!EINVAL"),
      s("d1", "READ", [`/${"c".repeat(28)}`], "!EACCES"),
      s("d1", "READ", [`/${"c".repeat(29)}`], "!EINVAL"),
      s("d0", "WRITE", [`/local/domain/1/${"d".repeat(40)}`, "x"], "OK"),
    ]);
    h.expectNodes(11);
  });
});

describe("permissions", () => {
  it("owner, default access, explicit entries, first match wins, ENOENT only if the parent tells", () => {
    const h = new Harness();
    h.run([
      ...home(1),
      ...home(2),
      s("d1", "WRITE", ["data/x", "1"], "OK"),
      s("d1", "GET_PERMS", ["data/x"], "n1"),
      s("d2", "READ", ["/local/domain/1/data/x"], "!EACCES"),
      s("d2", "READ", ["/local/domain/1/nope"], "!EACCES"),
      s("d1", "READ", ["nope"], "!ENOENT"),
      s("d1", "SET_PERMS", ["data/x", "n1", "r2"], "OK"),
      s("d2", "READ", ["/local/domain/1/data/x"], "1"),
      s("d2", "GET_PERMS", ["/local/domain/1/data/x"], "n1|r2"),
      s("d2", "WRITE", ["/local/domain/1/data/x", "2"], "!EACCES"),
      s("d2", "READ", ["/local/domain/1/data/x/missing"], "!ENOENT"),
      s("d1", "SET_PERMS", ["data/x", "n1", "b2"], "OK"),
      s("d2", "WRITE", ["/local/domain/1/data/x", "2"], "OK"),
      s("d2", "SET_PERMS", ["/local/domain/1/data/x", "n1"], "!EACCES"),
      s("d1", "SET_PERMS", ["data/x", "n2"], "!EPERM"),
      s("d0", "SET_PERMS", ["/local/domain/1/data/x", "n2"], "OK"),
      s("d1", "READ", ["data/x"], "!EACCES"),
      s("d2", "READ", ["/local/domain/1/data/x"], "2"),
      s("d0", "SET_PERMS", ["/local/domain/1/data/x", "r0", "w1", "n1"], "OK"),
      s("d1", "READ", ["data/x"], "!EACCES"),
      s("d1", "WRITE", ["data/x", "3"], "OK"),
      s("d2", "READ", ["/local/domain/1/data/x"], "3"),
      s("d2", "WRITE", ["/local/domain/1/data/x", "4"], "!EACCES"),
      s("d0", "READ", ["/local/domain/1/data/x"], "3"),
    ]);
    h.expectNodes(11);
  });

  it("unprivileged creators own what they create under a node they may write", () => {
    const h = new Harness();
    h.run([
      ...home(1),
      s("d0", "MKDIR", ["/local/domain/1/shared"], "OK"),
      s("d0", "SET_PERMS", ["/local/domain/1/shared", "n0", "w1"], "OK"),
      s("d1", "WRITE", ["shared/k/l", "v"], "OK"),
      s("d1", "GET_PERMS", ["shared/k"], "n1|w1"),
      s("d1", "GET_PERMS", ["shared/k/l"], "n1|w1"),
      s("d1", "DIRECTORY", ["shared"], "!EACCES"),
      s("d2", "WRITE", ["/local/domain/1/shared/m", "v"], "!EACCES"),
      s("d2", "READ", ["/local/domain/1/shared/missing"], "!EACCES"),
      s("d0", "WRITE", ["/local/domain/1/shared/byzero", "v"], "OK"),
      s("d0", "GET_PERMS", ["/local/domain/1/shared/byzero"], "n0|w1"),
      s("d1", "RM", ["shared/k"], "OK"),
      s("d1", "RM", ["shared/byzero"], "OK"),
    ]);
    h.expectNodes(9);
  });

  it("privileged connections bypass permissions; a privileged non-zero domid too", () => {
    const h = new Harness();
    h.conn("d7", true);
    h.run([
      s("d0", "WRITE", ["/secret", "s"], "OK"),
      s("d0", "SET_PERMS", ["/secret", "n5"], "OK"),
      s("d0", "READ", ["/secret"], "s"),
      s("d7", "READ", ["/secret"], "s"),
      s("d7", "SET_PERMS", ["/secret", "n7"], "OK"),
      s("d5", "READ", ["/secret"], "!EACCES"),
      s("d5", "SET_PERMS", ["/secret", "n5"], "!EACCES"),
    ]);
    h.expectNodes(8);
  });

  it("SET_PERMS: argument checks; GET_PERMS prints ids as C's %i", () => {
    const h = new Harness();
    h.run([
      s("d0", "MKDIR", ["/p"], "OK"),
      s("d0", "SET_PERMS", ["/p"], "!EINVAL"),
      s("d0", "SET_PERMS", ["/p", "x0"], "!EINVAL"),
      s("d0", "SET_PERMS", ["/p", "r"], "!EINVAL"),
      s("d0", "SET_PERMS", ["/p", "r1x"], "!EINVAL"),
      s("d0", "SET_PERMS", ["/nope", "r1"], "!ENOENT"),
      s("d0", "SET_PERMS", ["/p", "b0x10", "w010", "r4294967295"], "OK"),
      s("d0", "GET_PERMS", ["/p"], "b16|w8|r-1"),
    ]);
    h.expectNodes(8);
  });

  it("SET_TARGET gives a domain its target's rights (device model stub domains)", () => {
    const h = new Harness();
    h.run([
      ...home(1),
      s("d1", "WRITE", ["data", "1"], "OK"),
      s("d2", "READ", ["/local/domain/1/data"], "!EACCES"),
      s("d0", "SET_TARGET", ["2", "1"], "!ENOENT"),
      s("d0", "INTRODUCE", ["1", "0", "5"], "OK"),
      s("d0", "INTRODUCE", ["2", "0", "6"], "OK"),
      s("d0", "SET_TARGET", ["2", "1"], "OK"),
      s("d0", "SET_TARGET", ["2", "9"], "!ENOENT"),
      s("d0", "SET_TARGET", ["2"], "!EINVAL"),
      s("d0", "SET_TARGET", ["x", "1"], "!EINVAL"),
      s("d1", "SET_TARGET", ["2", "1"], "!EACCES"),
      s("d2", "READ", ["/local/domain/1/data"], "1"),
      s("d2", "WRITE", ["/local/domain/1/data", "2"], "OK"),
      s("d2", "SET_PERMS", ["/local/domain/1/data", "n1", "r3"], "OK"),
      s("d2", "SET_PERMS", ["/local/domain/1/data", "n2"], "!EPERM"),
      s("d1", "READ", ["/local/domain/2"], "!EACCES"),
    ]);
    assert.equal(h.engine.connectionInfo(h.conn("d2"))?.target, 1);
    h.expectNodes(9);
  });
});

describe("transactions", () => {
  it("isolation, commit, abort, ids, EBUSY/ENOENT/EINVAL", () => {
    const h = new Harness();
    h.run([
      s("d0", "TRANSACTION_START", [""], "1", { as: "t1" }),
      s("d0", "TRANSACTION_START", [""], "2", { as: "t2" }),
      s("d0", "TRANSACTION_START", [""], "!EBUSY", { tx: "t1" }),
      s("d0", "TRANSACTION_START", [""], "!ENOENT", { tx: 999 }),
      s("d0", "WRITE", ["/t/a", "1"], "OK", { tx: "t1", events: [] }),
      s("d0", "READ", ["/t/a"], "!ENOENT"),
      s("d0", "READ", ["/t/a"], "!ENOENT", { tx: "t2" }),
      s("d0", "READ", ["/t/a"], "1", { tx: "t1" }),
      s("d0", "DIRECTORY", ["/t"], "a", { tx: "t1" }),
      s("d0", "TRANSACTION_END", ["X"], "!EINVAL", { tx: "t1" }),
      s("d0", "TRANSACTION_END", ["T"], "!ENOENT"),
      s("d0", "TRANSACTION_END", ["T"], "OK", { tx: "t1" }),
      s("d0", "TRANSACTION_END", ["T"], "!ENOENT", { tx: "t1" }),
      s("d0", "READ", ["/t/a"], "1"),
      s("d0", "WRITE", ["/t/e", "x"], "OK", { tx: "t2" }),
      s("d0", "TRANSACTION_END", ["F"], "OK", { tx: "t2" }),
      s("d0", "READ", ["/t/e"], "!ENOENT"),
      s("d1", "TRANSACTION_START", [""], "1", { as: "u1" }),
      s("d0", "READ", ["/t/a"], "!ENOENT", { tx: "u1" }),
      s("d0", "TRANSACTION_START", [""], "3"),
    ]);
    h.expectNodes(9);
  });

  it("EAGAIN when a node read (or listed) in the transaction changed outside; otherwise last writer wins", () => {
    const h = new Harness();
    h.run([
      s("d0", "WRITE", ["/t/a", "1"], "OK"),
      s("d0", "TRANSACTION_START", [""], "1", { as: "t3" }),
      s("d0", "READ", ["/t/a"], "1", { tx: "t3" }),
      s("d0", "WRITE", ["/t/a", "2"], "OK"),
      s("d0", "READ", ["/t/a"], "1", { tx: "t3" }),
      s("d0", "WRITE", ["/t/b", "x"], "OK", { tx: "t3" }),
      s("d0", "TRANSACTION_END", ["T"], "!EAGAIN", { tx: "t3" }),
      s("d0", "READ", ["/t/b"], "!ENOENT"),
      s("d0", "TRANSACTION_START", [""], "2", { as: "t4" }),
      s("d0", "WRITE", ["/t/c", "c"], "OK", { tx: "t4" }),
      s("d0", "WRITE", ["/u", "x"], "OK"),
      s("d0", "TRANSACTION_END", ["T"], "OK", { tx: "t4" }),
      s("d0", "READ", ["/t/c"], "c"),
      s("d0", "TRANSACTION_START", [""], "3", { as: "t5" }),
      s("d0", "DIRECTORY", ["/t"], "a|c", { tx: "t5" }),
      s("d0", "WRITE", ["/t/d", "x"], "OK"),
      s("d0", "TRANSACTION_END", ["T"], "!EAGAIN", { tx: "t5" }),
      s("d0", "TRANSACTION_START", [""], "4", { as: "t6" }),
      s("d0", "READ", ["/t/new"], "!ENOENT", { tx: "t6" }),
      s("d0", "WRITE", ["/t/new", "outside"], "OK"),
      s("d0", "TRANSACTION_END", ["T"], "!EAGAIN", { tx: "t6" }),
      s("d0", "TRANSACTION_START", [""], "5", { as: "t7" }),
      s("d0", "RM", ["/t"], "OK", { tx: "t7" }),
      s("d0", "READ", ["/t/a"], "!ENOENT", { tx: "t7" }),
      s("d0", "READ", ["/t/a"], "2"),
      s("d0", "TRANSACTION_END", ["T"], "OK", { tx: "t7" }),
      s("d0", "READ", ["/t"], "!ENOENT"),
    ]);
    h.expectNodes(8);
  });

  it("fires watches only on commit, and not at all on abort or conflict", () => {
    const h = new Harness();
    h.run([
      s("d0", "WATCH", ["/t", "w"], "OK", { events: ["d0 /t w"] }),
      s("d0", "TRANSACTION_START", [""], "1", { as: "t" }),
      s("d0", "WRITE", ["/t/f", "1"], "OK", { tx: "t", events: [] }),
      s("d0", "WRITE", ["/t/g", "1"], "OK", { tx: "t", events: [] }),
      s("d0", "TRANSACTION_END", ["T"], "OK", { tx: "t", events: ["d0 /t/f w", "d0 /t/g w"] }),
      s("d0", "TRANSACTION_START", [""], "2", { as: "a" }),
      s("d0", "RM", ["/t"], "OK", { tx: "a", events: [] }),
      s("d0", "TRANSACTION_END", ["F"], "OK", { tx: "a", events: [] }),
      s("d0", "TRANSACTION_START", [""], "3", { as: "b" }),
      s("d0", "RM", ["/t/f"], "OK", { tx: "b", events: [] }),
      s("d0", "TRANSACTION_END", ["T"], "OK", { tx: "b", events: ["d0 /t/f w"] }),
    ]);
    h.expectNodes(9);
  });

  it("emits the transaction's mutations only on commit, and replays to the same tree", () => {
    const h = new Harness();
    h.send("d0", "WRITE", ["/j/keep", "1"]);
    h.run([s("d0", "TRANSACTION_START", [""], "1", { as: "t" })]);
    for (const op of [
      ["WRITE", ["/j/x/y", "1"]],
      ["RM", ["/j/x"]],
      ["WRITE", ["/j/x", "again"]],
      ["SET_PERMS", ["/j/keep", "n0", "r3"]],
      ["MKDIR", ["/j/z"]],
    ] as const) {
      assert.deepEqual(h.send("d0", op[0], [...op[1]], "t").mutations, []);
    }
    const out = h.send("d0", "TRANSACTION_END", ["T"], "t");
    assert.deepEqual(
      out.mutations.map((m) => (m.op === "domain" ? m.op : `${m.op} ${m.path}`)),
      ["set /j/x", "set /j/x/y", "rm /j/x", "set /j/x", "set /j/keep", "set /j/z"],
    );
    h.run([s("d0", "DIRECTORY", ["/j"], "keep|x|z")]);
    h.expectNodes(11);
  });

  it("RESET_WATCHES and disconnect drop transactions; ids never 0", () => {
    const h = new Harness();
    h.run([
      s("d0", "TRANSACTION_START", [""], "1", { as: "t" }),
      s("d0", "WATCH", ["/w", "x"], "OK"),
      s("d0", "RESET_WATCHES", [""], "OK"),
      s("d0", "READ", ["/"], "!ENOENT", { tx: "t" }),
      s("d0", "WRITE", ["/w", "1"], "OK", { events: [] }),
      s("d0", "TRANSACTION_START", [""], "2"),
    ]);
    h.engine.disconnect(h.conn("d0"));
    assert.equal(h.engine.connectionInfo(h.conn("d0")), undefined);
    h.expectNodes(8);
  });
});

describe("watches", () => {
  it("fire at and under the path, with depth, once per request; EEXIST; UNWATCH", () => {
    const h = new Harness();
    h.run([
      s("d0", "WATCH", ["/w", "tok"], "OK", { events: ["d0 /w tok"] }),
      s("d0", "WATCH", ["/w", "tok"], "!EEXIST", { events: [] }),
      s("d0", "WATCH", ["/w", "tok2"], "OK", { events: ["d0 /w tok2"] }),
      s("d0", "WRITE", ["/w/x", "1"], "OK", { events: ["d0 /w/x tok", "d0 /w/x tok2"] }),
      s("d0", "WATCH", ["/w", "depth0", "0"], "OK", { events: ["d0 /w depth0"] }),
      s("d0", "WATCH", ["/w", "depth1", "1"], "OK", { events: ["d0 /w depth1"] }),
      s("d0", "WRITE", ["/w/x", "2"], "OK", { events: ["d0 /w/x tok", "d0 /w/x tok2", "d0 /w/x depth1"] }),
      s("d0", "WRITE", ["/w/x/y", "2"], "OK", { events: ["d0 /w/x/y tok", "d0 /w/x/y tok2"] }),
      s("d0", "WRITE", ["/w", "z"], "OK", {
        events: ["d0 /w tok", "d0 /w tok2", "d0 /w depth0", "d0 /w depth1"],
      }),
      s("d0", "WRITE", ["/wx", "z"], "OK", { events: [] }),
      s("d0", "MKDIR", ["/w/x"], "OK", { events: [] }),
      s("d0", "WATCH", ["/w", "neg", "-1"], "!EINVAL"),
      s("d0", "WATCH", ["/w", "a", "1", "2"], "!EINVAL"),
      s("d0", "WATCH", ["/w"], "!EINVAL"),
      s("d0", "WATCH", ["/w/", "a"], "!EINVAL"),
      s("d0", "UNWATCH", ["/w", "tok"], "OK"),
      s("d0", "UNWATCH", ["/w", "tok"], "!ENOENT"),
      s("d0", "UNWATCH", ["/w"], "!EINVAL"),
      s("d0", "WRITE", ["/w", "q"], "OK", { events: ["d0 /w tok2", "d0 /w depth0", "d0 /w depth1"] }),
      s("d0", "WATCH", ["/", "all"], "OK", { events: ["d0 / all"] }),
      s("d0", "WATCH", ["/", "top", "1"], "OK", { events: ["d0 / top"] }),
      s("d0", "WRITE", ["/q", "1"], "OK", { events: ["d0 /q all", "d0 /q top"] }),
      s("d0", "WRITE", ["/q/r", "1"], "OK", { events: ["d0 /q/r all"] }),
    ]);
    assert.deepEqual(
      h.engine.connectionInfo(h.conn("d0"))?.watches.map((w) => `${w.path} ${w.token} ${w.depth}`),
      ["/w tok2 -1", "/w depth0 0", "/w depth1 1", "/ all -1", "/ top 1"],
    );
    h.expectNodes(13);
  });

  it("removal reports each removed watched node; the parent's watch gets the removed root", () => {
    const h = new Harness();
    h.run([
      s("d0", "WRITE", ["/r/a/b", "1"], "OK"),
      s("d0", "WATCH", ["/r/a/b", "leaf"], "OK"),
      s("d0", "WATCH", ["/r", "top"], "OK"),
      s("d0", "WATCH", ["/r/a/b/c", "below"], "OK"),
      s("d0", "WATCH", ["/", "root"], "OK"),
      s("d0", "RM", ["/r/a"], "OK", { events: ["d0 /r/a/b leaf", "d0 /r/a top", "d0 /r/a root"] }),
    ]);
    h.expectNodes(8);
  });

  it("relative watches report relative paths; WATCH ignores tx_id", () => {
    const h = new Harness();
    h.run([
      ...home(1),
      s("d1", "WATCH", ["data", "rel"], "OK", { events: ["d1 data rel"], tx: 4711 }),
      s("d1", "WATCH", ["/local/domain/1/data", "abs"], "OK", { events: ["d1 /local/domain/1/data abs"] }),
      s("d1", "WRITE", ["data/k", "v"], "OK", {
        events: ["d1 data/k rel", "d1 /local/domain/1/data/k abs"],
      }),
      s("d1", "UNWATCH", ["data", "rel"], "OK", { tx: 4711 }),
    ]);
    h.expectNodes(10);
  });

  it("deliver events only to connections that can read the node or its parent (XSA-115)", () => {
    const h = new Harness();
    h.run([
      ...home(1),
      s("d1", "MKDIR", ["data"], "OK"),
      s("d2", "WATCH", ["/local/domain/1/data", "spy"], "OK", { events: ["d2 /local/domain/1/data spy"] }),
      s("d0", "WATCH", ["/local/domain/1/data", "tools"], "OK"),
      s("d1", "WRITE", ["data/k", "v"], "OK", { events: ["d0 /local/domain/1/data/k tools"] }),
      s("d1", "SET_PERMS", ["data/k", "n1", "r2"], "OK", {
        events: ["d0 /local/domain/1/data/k tools", "d2 /local/domain/1/data/k spy"],
      }),
      s("d1", "WRITE", ["data/k/sub", "v"], "OK", {
        events: ["d0 /local/domain/1/data/k/sub tools", "d2 /local/domain/1/data/k/sub spy"],
      }),
      s("d1", "SET_PERMS", ["data/k", "n1"], "OK", {
        events: ["d0 /local/domain/1/data/k tools", "d2 /local/domain/1/data/k spy"],
      }),
      s("d1", "WRITE", ["data/k", "w"], "OK", { events: ["d0 /local/domain/1/data/k tools"] }),
    ]);
    h.expectNodes(11);
  });

  it("special watches: privileged or permitted watchers only; depth gives the domid", () => {
    const h = new Harness();
    h.run([
      s("d0", "WATCH", ["@introduceDomain", "intro"], "OK", { events: ["d0 @introduceDomain intro"] }),
      s("d0", "WATCH", ["@introduceDomain", "introd", "1"], "OK", { events: ["d0 @introduceDomain introd"] }),
      s("d1", "WATCH", ["@introduceDomain", "x"], "OK", { events: ["d1 @introduceDomain x"] }),
      s("d0", "WATCH", ["@releaseDomain", "rel"], "OK"),
      s("d0", "WATCH", ["@releaseDomain/3", "rel3"], "OK", { events: ["d0 @releaseDomain/3 rel3"] }),
      s("d0", "INTRODUCE", ["3", "0", "9"], "OK", {
        events: ["d0 @introduceDomain intro", "d0 @introduceDomain/3 introd"],
      }),
      s("d0", "INTRODUCE", ["3", "0", "9"], "OK", { events: [] }),
      s("d0", "SET_PERMS", ["@introduceDomain", "n0", "r1"], "OK", {
        events: ["d0 @introduceDomain intro", "d0 @introduceDomain introd", "d1 @introduceDomain x"],
      }),
      s("d0", "INTRODUCE", ["4", "0", "9"], "OK", {
        events: ["d0 @introduceDomain intro", "d1 @introduceDomain x", "d0 @introduceDomain/4 introd"],
      }),
      s("d0", "RELEASE", ["3"], "OK", { events: ["d0 @releaseDomain rel", "d0 @releaseDomain/3 rel3"] }),
      s("d0", "RELEASE", ["4"], "OK", { events: ["d0 @releaseDomain rel"] }),
    ]);
    h.expectNodes(7);
  });

  it("drops events longer than XENSTORE_PAYLOAD_MAX (XSA-324)", () => {
    const h = new Harness();
    const path = `/${"a".repeat(100)}`;
    const token = "t".repeat(3993);
    h.run([
      s("d0", "WATCH", [path, token], "OK", { events: [`d0 ${path} ${token}`] }),
      s("d0", "WRITE", [path, "x"], "OK", { events: [`d0 ${path} ${token}`] }),
      s("d0", "WRITE", [`${path}/b`, "x"], "OK", { events: [] }),
    ]);
    assert.equal(
      h.send("d0", "WATCH", [path, `${token}t`]).reply,
      null,
      "a request over 4096 bytes drops the connection",
    );
    h.expectNodes(9);
  });

  it("RESET_WATCHES drops the caller's watches only", () => {
    const h = new Harness();
    h.run([
      s("d0", "WATCH", ["/x", "a"], "OK"),
      s("d0:b", "WATCH", ["/x", "b"], "OK"),
      s("d0", "RESET_WATCHES", [""], "OK"),
      s("d0", "WRITE", ["/x", "1"], "OK", { events: ["d0:b /x b"] }),
    ]);
    h.expectNodes(8);
  });
});

describe("quotas (unprivileged only)", () => {
  const q = { nodes: 5, watches: 3, transactions: 2, transactionNodes: 6, nodePermissions: 3, nodeSize: 64 };

  it("nodes per domain, counted by owner; a failed multi-node create leaves nothing", () => {
    const h = new Harness({ quotas: q });
    h.run([
      ...home(1),
      s("d1", "WRITE", ["a", ""], "OK"),
      s("d1", "WRITE", ["b", ""], "OK"),
      s("d1", "WRITE", ["c", ""], "OK"),
      s("d1", "WRITE", ["d", ""], "!ENOSPC"),
      s("d1", "RM", ["c"], "OK"),
      s("d1", "WRITE", ["x/y", ""], "!ENOSPC"),
      s("d1", "READ", ["x"], "!ENOENT"),
      s("d1", "WRITE", ["x", ""], "OK"),
      s("d0", "WRITE", ["/local/domain/1/byzero", ""], "OK"),
      s("d1", "WRITE", ["a", "overwrite is fine"], "OK"),
    ]);
    assert.equal(h.engine.quotaUsage(1).nodes, 5);
    for (let i = 0; i < 20; i++) h.send("d0", "MKDIR", [`/many/${i}`]);
    h.expectNodes(33);
  });

  it("watches, transactions, node-permissions, node-size", () => {
    const h = new Harness({ quotas: q });
    h.run([
      ...home(1),
      s("d1", "WATCH", ["a", "1"], "OK"),
      s("d1", "WATCH", ["a", "2"], "OK"),
      s("d1", "WATCH", ["a", "3"], "!ENOSPC"),
      s("d0", "WATCH", ["a", "3"], "OK"),
      s("d1", "TRANSACTION_START", [""], "1"),
      s("d1", "TRANSACTION_START", [""], "!ENOSPC"),
      s("d1", "WRITE", ["p", ""], "OK"),
      s("d1", "SET_PERMS", ["p", "n1", "r0"], "OK"),
      s("d1", "SET_PERMS", ["p", "n1", "r0", "r2"], "!ENOSPC"),
      s("d0", "SET_PERMS", ["/local/domain/1/p", "n1", "r0", "r2", "r3", "r4", "r5"], "OK"),
      s("d1", "WRITE", ["v", "x".repeat(40)], "!ENOSPC"),
      s("d1", "WRITE", ["v", "x".repeat(39)], "OK"),
      s("d1", "WRITE", ["v", "x".repeat(40)], "!ENOSPC"),
      s("d1", "READ", ["v"], "x".repeat(39)),
      s("d0", "WRITE", ["/local/domain/1/v", "x".repeat(100)], "OK"),
    ]);
    h.expectNodes(10);
  });

  it("transaction-nodes: too many nodes accessed fails the request and the transaction", () => {
    const h = new Harness({ quotas: q });
    h.run([
      ...home(1),
      s("d1", "TRANSACTION_START", [""], "1", { as: "t" }),
      s("d1", "READ", ["a"], "!ENOENT", { tx: "t" }),
      s("d1", "READ", ["b"], "!ENOENT", { tx: "t" }),
      s("d1", "READ", ["c"], "!ENOENT", { tx: "t" }),
      s("d1", "READ", ["d"], "!ENOENT", { tx: "t" }),
      s("d1", "READ", ["e"], "!ENOSPC", { tx: "t" }),
      s("d1", "TRANSACTION_END", ["T"], "!ENOMEM", { tx: "t" }),
      s("d1", "TRANSACTION_START", [""], "2", { as: "u" }),
      s("d1", "WRITE", ["a", "1"], "OK", { tx: "u" }),
      s("d1", "TRANSACTION_END", ["T"], "OK", { tx: "u" }),
    ]);
    h.expectNodes(9);
  });

  it("nodes created in a transaction are checked again at commit", () => {
    const h = new Harness({ quotas: q });
    h.run([
      ...home(1),
      s("d1", "TRANSACTION_START", [""], "1", { as: "t" }),
      s("d1", "WRITE", ["a", ""], "OK", { tx: "t" }),
      s("d1", "WRITE", ["b", ""], "OK", { tx: "t" }),
      s("d1", "WRITE", ["c", ""], "OK"),
      s("d1", "WRITE", ["d", ""], "OK"),
      s("d1", "TRANSACTION_END", ["T"], "!ENOSPC", { tx: "t" }),
    ]);
    h.expectNodes(10);
  });

  it("memory: nodes, watches, transactions and queued output count; ENOMEM at the hard quota", () => {
    // 4 KiB of memory: the home node (owned by d1), then values until the quota is reached.
    const h = new Harness({ quotas: { memory: 4096, nodeSize: 2048 } });
    h.run([...home(1), s("d1", "WRITE", ["a", "x".repeat(1500)], "OK")]);
    const afterA = h.engine.domainMemory(1);
    assert.ok(afterA > 1500 && afterA < 1700, `memory after one 1500-byte node: ${afterA}`);
    h.run([
      s("d1", "WRITE", ["b", "x".repeat(1500)], "OK"),
      s("d1", "WRITE", ["c", "x".repeat(1500)], "!ENOMEM"),
      // Shrinking is always allowed; then there is room again.
      s("d1", "WRITE", ["b", "x"], "OK"),
      s("d1", "WRITE", ["c", "x".repeat(1500)], "OK"),
      s("d1", "WATCH", ["a", "t".repeat(1000)], "!ENOMEM"),
      s("d1", "WATCH", ["a", "t".repeat(100)], "OK"),
      // dom0 is never limited, also when it writes the guest's nodes.
      s("d0", "WRITE", ["/local/domain/1/big", "y".repeat(1800)], "OK"),
      s("d1", "TRANSACTION_START", [""], "!ENOMEM"),
      s("d1", "RM", ["big"], "OK"),
      s("d1", "TRANSACTION_START", [""], "1", { as: "t" }),
      // A transaction's private copies count: a 1500-byte copy of "a" does not fit twice.
      s("d1", "WRITE", ["a", "z".repeat(1500)], "!ENOMEM", { tx: "t" }),
      s("d1", "TRANSACTION_END", ["F"], "OK", { tx: "t" }),
    ]);
    // Output queued by the service counts too, and reaching the quota is reported for stalling.
    const before = h.engine.domainMemory(1);
    assert.equal(h.engine.memoryQuotaReached(1), false);
    h.engine.accountOutput(1, 4096 - before);
    assert.equal(h.engine.memoryQuotaReached(1), true);
    assert.equal(h.engine.quotaUsage(1).output, 4096 - before);
    h.run([s("d1", "WRITE", ["d", ""], "!ENOMEM")]);
    h.engine.accountOutput(1, -(4096 - before));
    assert.equal(h.engine.domainMemory(1), before);
    assert.equal(h.engine.quotaUsage(1).output, 0);
    h.run([s("d1", "WRITE", ["d", ""], "OK")]);
    h.expectNodes(12);
  });

  it("GET_QUOTA / SET_QUOTA: privileged, global and per domain, soft-memory, 0 refused", () => {
    const h = new Harness();
    h.run([
      s(
        "d0",
        XS_GET_QUOTA,
        [],
        "nodes watches outstanding memory soft-memory transactions transaction-nodes node-permissions path-max node-size",
      ),
      s("d0", XS_GET_QUOTA, ["nodes"], "1000"),
      s("d0", XS_GET_QUOTA, ["memory"], String(2.5 * 1024 * 1024)),
      s("d0", XS_GET_QUOTA, ["soft-memory"], String(2 * 1024 * 1024)),
      s("d0", XS_GET_QUOTA, ["soft-nodes"], "!EINVAL"),
      s("d0", XS_GET_QUOTA, ["bogus"], "!EINVAL"),
      s("d0", XS_GET_QUOTA, ["1", "nodes", "x"], "!EINVAL"),
      s("d0", XS_GET_QUOTA, ["7", "nodes"], "!ENOENT"),
      s("d0", XS_GET_QUOTA, ["x7", "nodes"], "!EINVAL"),
      s("d1", XS_GET_QUOTA, ["nodes"], "!EACCES"),
      s("d1", XS_SET_QUOTA, ["nodes", "5"], "!EACCES"),
      s("d0", XS_SET_QUOTA, ["nodes"], "!EINVAL"),
      s("d0", XS_SET_QUOTA, ["nodes", "0"], "!EINVAL"),
      s("d0", XS_SET_QUOTA, ["watches", "50"], "OK"),
      s("d0", XS_GET_QUOTA, ["watches"], "50"),
      ...home(1),
      s("d0", XS_SET_QUOTA, ["1", "nodes", "3"], "OK"),
      s("d0", XS_GET_QUOTA, ["1", "nodes"], "3"),
      s("d0", XS_GET_QUOTA, ["nodes"], "1000"),
      s("d0", XS_GET_QUOTA, ["1", "watches"], "50"),
      s("d0", XS_SET_QUOTA, ["1", "soft-memory", "1000"], "OK"),
      s("d0", XS_GET_QUOTA, ["1", "soft-memory"], "1000"),
      s("d1", "WRITE", ["a", ""], "OK"),
      s("d1", "WRITE", ["b", ""], "!ENOSPC"),
    ]);
    assert.equal(h.engine.quotaUsage(1).quotas.nodes, 3);
    assert.equal(h.engine.quotaOf(1, "nodes"), 3);
    assert.equal(h.engine.softMemoryQuotaReached(1), false);
    h.run([s("d0", XS_SET_QUOTA, ["1", "soft-memory", "10"], "OK")]);
    assert.equal(h.engine.softMemoryQuotaReached(1), true);
    // The domain's own quotas go with it (its still open connection keeps it known).
    h.record(h.engine.domainGone(1));
    h.run([s("d0", XS_GET_QUOTA, ["1", "nodes"], "1000")]);
    h.expectNodes(7);
  });

  it("oxenstored mode answers EQUOTA", () => {
    const h = new Harness({ quotas: q, quotaError: "oxenstored" });
    h.run([...home(1), s("d1", "WATCH", ["a", "1"], "OK"), s("d1", "WATCH", ["a", "2"], "OK")]);
    h.run([s("d1", "WATCH", ["a", "3"], "!EQUOTA")]);
    h.expectNodes(8);
  });

  it("E2BIG for replies over 4096 bytes; DIRECTORY_PART pages through them", () => {
    const h = new Harness();
    const names = Array.from({ length: 50 }, (_, i) => `${String(i).padStart(2, "0")}${"n".repeat(97)}`);
    for (const n of names) h.send("d0", "MKDIR", [`/big/${n}`]);
    h.run([s("d0", "DIRECTORY", ["/big"], "!E2BIG"), s("d0", "DIRECTORY_PART", ["/big"], "!EINVAL")]);
    const got: string[] = [];
    let off = 0;
    let gen: string | undefined;
    for (let rounds = 0; rounds < 10; rounds++) {
      const r = h.send("d0", "DIRECTORY_PART", ["/big", String(off)]).reply;
      assert.ok(r && r.type === XsType.DIRECTORY_PART && r.payload.length <= 4096);
      const parts = renderReply(r).split("|");
      gen ??= parts[0];
      assert.equal(parts[0], gen, "generation count stays while the directory does not change");
      const children = parts.slice(1);
      if (children.at(-1) === "") {
        got.push(...children.slice(0, -1).filter((c) => c !== ""));
        break;
      }
      got.push(...children);
      off += children.reduce((n, c) => n + c.length + 1, 0);
    }
    assert.deepEqual(got, names);
    h.run([s("d0", "DIRECTORY_PART", ["/big", "999999"], `${gen}|`)]);
    h.run([s("d0", "DIRECTORY_PART", ["/t", "0"], "!ENOENT")]);
    h.expectNodes(58);
  });
});

describe("domains", () => {
  it("INTRODUCE, IS_DOMAIN_INTRODUCED, GET_DOMAIN_PATH, RESUME, RELEASE", () => {
    const h = new Harness();
    h.run([
      s("d1", "INTRODUCE", ["1", "1234", "7"], "!EACCES"),
      s("d0", "INTRODUCE", ["1", "1234", "0"], "!EINVAL"),
      s("d0", "INTRODUCE", ["1", "1234"], "!EINVAL"),
      s("d0", "INTRODUCE", ["x", "1234", "7"], "!EINVAL"),
      s("d0", "INTRODUCE", ["70000", "1234", "7"], "!EINVAL"),
      s("d0", "INTRODUCE", ["1", "1234", "7"], "OK"),
      s("d0", "IS_DOMAIN_INTRODUCED", ["1"], "T"),
      s("d0", "IS_DOMAIN_INTRODUCED", ["9"], "F"),
      s("d0", "IS_DOMAIN_INTRODUCED", ["32752"], "T"),
      s("d0", "IS_DOMAIN_INTRODUCED", ["-1"], "!EINVAL"),
      s("d1", "IS_DOMAIN_INTRODUCED", ["1"], "!EACCES"),
      s("d0", "INTRODUCE", ["1", "999", "8"], "OK"),
      s("d0", "GET_DOMAIN_PATH", ["7"], "/local/domain/7"),
      s("d1", "GET_DOMAIN_PATH", ["3"], "/local/domain/3"),
      // parse_domid() of C xenstored (strtoul, base 10, all of the string, at most 65535): a
      // non-number is EINVAL there and here; oxenstored answers /local/domain/0 (REAL-PEERS).
      s("d1", "GET_DOMAIN_PATH", ["abc"], "!EINVAL"),
      s("d1", "GET_DOMAIN_PATH", ["12abc"], "!EINVAL"),
      s("d1", "GET_DOMAIN_PATH", ["12 "], "!EINVAL"),
      s("d1", "GET_DOMAIN_PATH", ["-1"], "!EINVAL"),
      s("d1", "GET_DOMAIN_PATH", [" 12"], "/local/domain/12"),
      s("d1", "GET_DOMAIN_PATH", ["+12"], "/local/domain/12"),
      s("d1", "GET_DOMAIN_PATH", [""], "/local/domain/0"),
      s("d1", "GET_DOMAIN_PATH", ["65535"], "/local/domain/65535"),
      s("d1", "GET_DOMAIN_PATH", ["65536"], "!EINVAL"),
      s("d0", "RESUME", ["1"], "OK"),
      s("d0", "RESUME", ["9"], "!ENOENT"),
      s("d0", "RESUME", ["0"], "!EINVAL"),
      s("d0", "RELEASE", ["0"], "!EINVAL"),
      s("d0", "RELEASE", ["9"], "!ENOENT"),
      s("d0", "RELEASE", ["1", "2"], "!EINVAL"),
      s("d0", "RELEASE", ["1"], "OK"),
      s("d0", "IS_DOMAIN_INTRODUCED", ["1"], "F"),
      s("d0", "RELEASE", ["1"], "!ENOENT"),
    ]);
    h.expectNodes(7);
  });

  it("returns effects and domain mutations", () => {
    const h = new Harness();
    let out = h.send("d0", "INTRODUCE", ["5", "feed", "3"]);
    assert.deepEqual(out.effects, [{ kind: "introduce", domid: 5, mfn: "feed", port: 3 }]);
    assert.deepEqual(out.mutations, [{ op: "domain", domid: 5, introduced: true, mfn: "feed", port: 3 }]);
    out = h.send("d0", "RESUME", ["5"]);
    assert.deepEqual(out.effects, [{ kind: "resume", domid: 5 }]);
    out = h.send("d0", "RELEASE", ["5"]);
    assert.deepEqual(out.effects, [{ kind: "release", domid: 5 }]);
    assert.deepEqual(out.mutations, [{ op: "domain", domid: 5, introduced: false }]);
    h.expectNodes(7);
  });

  it("re-introduction resets the domain's watches and transactions", () => {
    const h = new Harness();
    h.run([
      ...home(4),
      s("d0", "INTRODUCE", ["4", "0", "1"], "OK"),
      s("d4", "WATCH", ["x", "t"], "OK"),
      s("d4", "TRANSACTION_START", [""], "1", { as: "t" }),
      s("d0", "INTRODUCE", ["4", "0", "2"], "OK"),
      s("d4", "READ", ["x"], "!ENOENT", { tx: "t" }),
      s("d4", "WRITE", ["x", "1"], "OK", { events: [] }),
    ]);
    h.expectNodes(9);
  });

  it("release deletes the domain's nodes and its permission entries (XSA-322/419), with watch events", () => {
    const h = new Harness();
    h.run([
      ...home(1),
      s("d0", "INTRODUCE", ["1", "0", "1"], "OK"),
      s("d1", "WRITE", ["device/vbd/51712/state", "4"], "OK"),
      s("d1", "WATCH", ["device", "mine"], "OK"),
      s("d0", "WRITE", ["/local/domain/0/backend/vbd/1/51712/state", "4"], "OK"),
      s("d0", "SET_PERMS", ["/local/domain/0/backend/vbd/1/51712", "n0", "r1"], "OK"),
      s("d0", "SET_PERMS", ["@releaseDomain", "n0", "r1"], "OK"),
      s("d0", "WATCH", ["/local/domain/1", "home"], "OK"),
      s("d0", "WATCH", ["@releaseDomain", "rel"], "OK"),
      s("d0", "RELEASE", ["1"], "OK", {
        // Removed descendants only match watches on themselves (MATCH_EXACT); the root matches subtree watches.
        events: ["d0 /local/domain/1 home", "d0 @releaseDomain rel"],
      }),
      s("d0", "READ", ["/local/domain/1"], "!ENOENT"),
      s("d0", "GET_PERMS", ["/local/domain/0/backend/vbd/1/51712"], "n0"),
      s("d0", "GET_PERMS", ["@releaseDomain"], "n0"),
    ]);
    assert.deepEqual(h.engine.connectionInfo(h.conn("d1"))?.watches, []);
    h.expectNodes(13);
  });

  it("domainGone: @releaseDomain, nodes removed; for a never-introduced domain only the nodes", () => {
    const h = new Harness();
    h.run([
      ...home(2),
      ...home(3),
      s("d0", "INTRODUCE", ["2", "0", "1"], "OK"),
      s("d0", "WATCH", ["@releaseDomain", "rel", "1"], "OK"),
      s("d0", "WATCH", ["@releaseDomain", "any"], "OK"),
    ]);
    let out = h.engine.domainShutdown(2);
    h.record(out);
    assert.deepEqual(h.events(out), ["d0 @releaseDomain any", "d0 @releaseDomain/2 rel"]);
    assert.deepEqual(h.events(h.engine.domainShutdown(2)), []);
    out = h.engine.domainGone(2);
    h.record(out);
    assert.deepEqual(h.events(out), ["d0 @releaseDomain any", "d0 @releaseDomain/2 rel"]);
    assert.deepEqual(out.effects, [{ kind: "release", domid: 2 }]);
    out = h.engine.domainGone(3);
    h.record(out);
    assert.deepEqual(h.events(out), []);
    assert.deepEqual(out.effects, []);
    assert.deepEqual(out.mutations, [{ op: "rm", path: "/local/domain/3" }]);
    assert.deepEqual(h.engine.domainGone(0).mutations, []);
    h.expectNodes(7);
  });
});

describe("control", () => {
  it("is privileged and supports print, check, quota, quota-soft, help", () => {
    const h = new Harness();
    h.run([
      s("d1", "CONTROL", ["print", "x"], "!EACCES"),
      s("d0", "CONTROL", ["print", "x"], "OK"),
      s("d0", "CONTROL", ["print"], "!EINVAL"),
      s("d0", "CONTROL", ["bogus"], "!EINVAL"),
      s("d0", "CONTROL", [], "!EINVAL"),
      s("d0", "CONTROL", ["check"], "OK"),
      s("d0", "CONTROL", ["quota", "set", "nodes", "0"], "!EINVAL"),
      s("d0", "CONTROL", ["quota", "set", "bogus", "3"], "!EINVAL"),
      s("d0", "CONTROL", ["quota", "set", "nodes", "3"], "OK"),
      s("d0", "CONTROL", ["quota", "77"], "!ENOENT"),
      s("d0", "CONTROL", ["quota-soft", "set", "nodes", "3"], "!EINVAL"),
      s("d0", "CONTROL", ["quota-soft", "set", "memory", "4096"], "OK"),
      s(
        "d0",
        "CONTROL",
        ["quota-soft"],
        "Quota settings:\nmemory           :     4096 Total Xenstore memory per domain\n",
      ),
    ]);
    const show = renderReply(h.send("d0", "CONTROL", ["quota"]).reply);
    assert.match(show, /^Quota settings:\nnodes {12}: {8}3 Nodes per domain\n/);
    assert.match(show, /node-size {8}: {5}2048 Max\. size of a node\n$/);
    assert.match(
      renderReply(h.send("d0", "CONTROL", ["quota", "0"]).reply),
      /^Domain 0:\nnodes {12}: {8}7 \(max {8}7\)\n/,
    );
    assert.match(renderReply(h.send("d0", "CONTROL", ["help"]).reply), /^check {11}\nprint {11}<string>\n/);
    h.run([...home(1), s("d1", "WRITE", ["a", ""], "OK"), s("d1", "WRITE", ["b", ""], "!ENOSPC")]);
    assert.equal(XenstoreEngine.restore(h.engine.snapshot()).quotaUsage(1).quotas.nodes, 3);
    h.expectNodes(9);
  });

  it("watches [<path>] lists the watch table (a leak audit's view), privileged only", () => {
    const h = new Harness();
    h.run([
      s("d0", "WATCH", ["/local/domain/5/device", "fe"], "OK", { events: ["d0 /local/domain/5/device fe"] }),
      s("d0", "WATCH", ["/vm", "vm"], "OK", { events: ["d0 /vm vm"] }),
      s("d1", "CONTROL", ["watches"], "!EACCES"),
      s("d0", "CONTROL", ["watches", "/a", "/b"], "!EINVAL"),
      s("d0", "CONTROL", ["watches", "/local/domain/5"], "0 /local/domain/5/device fe\n"),
      s("d0", "CONTROL", ["watches", "/local/domain/50"], ""),
      s("d0", "UNWATCH", ["/local/domain/5/device", "fe"], "OK"),
      s("d0", "CONTROL", ["watches", "/local/domain/5"], ""),
      s("d0", "CONTROL", ["watches"], "0 /vm vm\n"),
    ]);
  });
});

describe("message types and framing", () => {
  it("answers ENOSYS to unknown and server-only types, before the privilege check", () => {
    const h = new Harness();
    for (const t of [15, 16, 20, 23, 24, 27, 0xffff, 1000, 2 ** 32 - 1]) {
      h.run([s("d0", t, ["x"], "!ENOSYS"), s("d5", t, ["x"], "!ENOSYS")]);
    }
    h.expectNodes(7);
  });

  it("unknown transaction ids are ENOENT for every transactional type", () => {
    const h = new Harness();
    for (const op of [
      "DIRECTORY",
      "READ",
      "GET_PERMS",
      "WRITE",
      "MKDIR",
      "RM",
      "SET_PERMS",
      "DIRECTORY_PART",
    ] as const) {
      h.run([s("d0", op, ["/tool", "0"], "!ENOENT", { tx: 12 })]);
    }
    h.run([
      s("d0", "GET_DOMAIN_PATH", ["1"], "!ENOENT", { tx: 12 }),
      s("d0", "RESET_WATCHES", [""], "!ENOENT", { tx: 12 }),
    ]);
    h.expectNodes(7);
  });

  it("drops the connection for payloads over 4096 bytes and for unknown connections", () => {
    const e = new XenstoreEngine();
    const c = e.connect({ domid: 0 });
    assert.equal(e.request(c, { type: 2, reqId: 1, txId: 0, payload: new Uint8Array(4097) }).reply, null);
    assert.equal(e.request(999, { type: 2, reqId: 1, txId: 0, payload: payloadOf(["/"]) }).reply, null);
    assert.equal(e.nodeCount(), 7);
  });

  it("replies are byte-exact: READ has no trailing nul, DIRECTORY of a leaf is empty", () => {
    const h = new Harness();
    h.send("d0", "WRITE", ["/v", "abc"]);
    assert.deepEqual(h.send("d0", "READ", ["/v"]).reply?.payload, Uint8Array.of(0x61, 0x62, 0x63));
    assert.deepEqual(h.send("d0", "DIRECTORY", ["/v"]).reply?.payload, new Uint8Array());
    assert.deepEqual(h.send("d0", "TRANSACTION_START", [""]).reply?.payload, Uint8Array.of(0x31, 0));
    assert.deepEqual(h.send("d0", "GET_PERMS", ["/v"]).reply?.payload, Uint8Array.of(0x6e, 0x30, 0));
    h.expectNodes(8);
  });

  it("keeps watch tokens as raw bytes", () => {
    const h = new Harness();
    const token = Uint8Array.of(0xc3, 0x28, 0xff, 0x01);
    const out = h.send("d0", "WATCH", [payloadOf(["/x"]), token, Uint8Array.of(0)]);
    assert.equal(renderReply(out.reply), "OK");
    assert.deepEqual(out.events[0]?.msg.payload, Uint8Array.of(0x2f, 0x78, 0, 0xc3, 0x28, 0xff, 0x01, 0));
    h.expectNodes(7);
  });
});
