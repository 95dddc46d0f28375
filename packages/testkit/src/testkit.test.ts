import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { freePort, seededRandom, startNatsServer, tempDir, waitFor } from "./index.js";

test("seededRandom: same seed, same sequence; different seed, different sequence", () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const c = seededRandom(43);
  const sa = Array.from({ length: 20 }, () => a.next());
  const sb = Array.from({ length: 20 }, () => b.next());
  const sc = Array.from({ length: 20 }, () => c.next());
  assert.deepEqual(sa, sb);
  assert.notDeepEqual(sa, sc);
  for (const v of sa) assert.ok(v >= 0 && v < 1);
  const r = seededRandom(1);
  for (let i = 0; i < 1000; i++) {
    const x = r.range(3, 5);
    assert.ok(x >= 3 && x <= 5 && Number.isInteger(x));
  }
  assert.deepEqual(seededRandom(7).shuffle([1, 2, 3, 4, 5]).sort(), [1, 2, 3, 4, 5]);
});

test("tempDir creates and removes a directory", () => {
  const d = tempDir("xensim-tk-");
  writeFileSync(join(d.path, "f"), "x");
  assert.ok(existsSync(join(d.path, "f")));
  d.cleanup();
  assert.ok(!existsSync(d.path));
  d.cleanup();
});

test("waitFor returns the value, and times out with a clear message", async () => {
  let n = 0;
  assert.equal(await waitFor(() => (++n >= 3 ? n : 0), { intervalMs: 1 }), 3);
  await assert.rejects(
    waitFor(() => false, { timeoutMs: 30, message: "never" }),
    /never not met within 30 ms/,
  );
});

test("freePort gives a bindable port", async () => {
  const p = await freePort();
  assert.ok(p > 0 && p < 65536);
});

test("startNatsServer runs a real server on loopback and stops it by PID", async () => {
  const srv = await startNatsServer();
  assert.match(srv.url, /^nats:\/\/127\.0\.0\.1:\d+$/);
  const info = await new Promise<string>((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port: srv.port });
    s.once("data", (b) => {
      s.destroy();
      resolve(b.toString());
    });
    s.once("error", reject);
  });
  assert.match(info, /^INFO \{/);
  await srv.stop();
  assert.throws(() => process.kill(srv.pid, 0));
  await srv.stop();
});
