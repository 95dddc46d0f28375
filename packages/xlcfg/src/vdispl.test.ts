// xl.cfg(5) vdispl specs: the man page's example, defaults, and every error with its position.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseXlCfg } from "./config.js";
import { formatVdisplSpec, parseVdisplSpec } from "./vdispl.js";

test("the xl.cfg(5) example and defaults", () => {
  const r = parseVdisplSpec("backend=DomD, be-alloc=0, connectors=id0:1920x1080;id1:800x600;id2:640x480");
  assert.ok("vdispl" in r);
  assert.deepEqual(r.vdispl, {
    backend: "DomD",
    beAlloc: false,
    connectors: [
      { id: "id0", width: 1920, height: 1080 },
      { id: "id1", width: 800, height: 600 },
      { id: "id2", width: 640, height: 480 },
    ],
  });
  const d = parseVdisplSpec("connectors=HDMI-A-1:640x480,be-alloc=1");
  assert.ok("vdispl" in d);
  assert.equal(d.vdispl.backend, "0");
  assert.equal(d.vdispl.beAlloc, true);
  assert.deepEqual(parseVdisplSpec(formatVdisplSpec(d.vdispl)), d);
});

test("bad specs: every problem, with the offset into the string", () => {
  for (const [spec, re] of [
    ["be-alloc=maybe,connectors=a:1x1", /be-alloc 'maybe'/],
    ["connectors=a:1920*1080", /not <id>:<W>x<H>/],
    ["connectors=a:0x10", /out of range/],
    ["connectors=a:10x10;a:20x20", /used twice/],
    ["connectors=a b:10x10", /not <id>:<W>x<H>/],
    ["be-alloc=1", /no connectors/],
    ["resolution=1x1,connectors=a:1x1", /unknown key 'resolution'/],
  ] as const) {
    const r = parseVdisplSpec(spec);
    assert.ok("problems" in r, spec);
    assert.match(r.problems.map((p) => p.message).join("; "), re, spec);
  }
});

test("in a config file: vdispls, or errors at their line and column", () => {
  const ok = parseXlCfg(`name = "g"\nmemory = 64\nvdispl = [ 'connectors=id0:640x480' ]\n`);
  assert.ok(ok.ok);
  assert.equal(ok.config.vdispls.length, 1);
  assert.equal(ok.config.vdispls[0]!.connectors[0]!.width, 640);
  const bad = parseXlCfg(`name = "g"\nmemory = 64\nvdispl = [ 'connectors=id0:640y480' ]\n`);
  assert.ok(!bad.ok);
  assert.equal(bad.errors[0]!.line, 3);
  assert.match(bad.errors[0]!.message, /^vdispl: connector/);
});
