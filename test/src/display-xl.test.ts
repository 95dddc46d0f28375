// `xensim up` with a display guest (the way npm start runs examples/guest-display.cfg) and the
// display commands a user runs: `xl vdispl-list` shows the connectors flipping, `xl screenshot`
// writes PNG files of the right size whose pictures change over time.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { tempDir, waitFor } from "@xensim/testkit";
import { PNG } from "pngjs";
import { REPO_ROOT, spawnXensim, XENSIM_BIN } from "./harness.js";

function xl(stateDir: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [XENSIM_BIN, "xl", "--state-dir", stateDir, ...args], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("xensim up with examples/guest-display.cfg, driven by xensim xl", () => {
  const dir = tempDir("xensim-display-xl-");
  after(() => dir.cleanup());

  it("lists the connectors and writes screenshots that change", { timeout: 120_000 }, async () => {
    const stateDir = join(dir.path, "state");
    const examples = join(dir.path, "examples");
    mkdirSync(examples);
    copyFileSync(join(REPO_ROOT, "examples", "guest-display.cfg"), join(examples, "guest-display.cfg"));
    const up = spawnXensim(["up", "--state-dir", stateDir, "--api-port", "0", "--examples", examples]);
    try {
      await waitFor(() => /created domain (\d+) \(display1\)/.test(up.output()), {
        timeoutMs: 60_000,
        message: `display1 created: ${up.output()}`,
      });
      await waitFor(
        () => {
          const l = xl(stateDir, ["vdispl-list", "display1"]);
          return l.status === 0 && /^0\s+1\s+DP-1\s+320x240\s+([3-9]|\d\d+)/m.test(l.stdout);
        },
        { timeoutMs: 30_000, message: "both connectors flipping" },
      );
      const l = xl(stateDir, ["vdispl-list", "display1"]);
      assert.match(l.stdout, /^Devid\s+Conn\s+Id\s+Resolution\s+Flips/);
      assert.match(l.stdout, /^0\s+0\s+HDMI-A-1\s+640x480\s+\d+/m);

      const shots: Uint8Array[] = [];
      for (const [i, extra] of [
        [0, []],
        [1, []],
        [2, ["--connector", "1"]],
      ] as const) {
        const file = join(dir.path, `s${i}.png`);
        if (i === 1) await new Promise((r) => setTimeout(r, 700));
        const s = xl(stateDir, ["screenshot", "display1", file, ...extra]);
        assert.equal(s.status, 0, s.stderr);
        assert.match(s.stdout, /\(frame \d+\)/);
        const img = PNG.sync.read(readFileSync(file));
        assert.deepEqual([img.width, img.height], i === 2 ? [320, 240] : [640, 480]);
        shots.push(new Uint8Array(img.data));
      }
      assert.ok(
        !Buffer.from(shots[0]!).equals(Buffer.from(shots[1]!)),
        "the clock moved between screenshots",
      );
      const bad = xl(stateDir, ["screenshot", "display1", join(dir.path, "x.png"), "--connector", "5"]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /no screen/);
    } finally {
      assert.equal(await up.stop(), 0, up.output());
    }
  });
});
