// BlkfrontOptions.poll: after responses, the ring keeps looking on later turns instead of setting
// rsp_event and sleeping — so the backend need not wake the guest — and still goes to sleep (and
// is woken by the backend's event) once the poll runs out.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pattern, Rig, waitUntil } from "./testing/rig.js";

describe("blkfront poll", () => {
  it("completes every I/O while polling, then sleeps and is woken by the next response", async () => {
    let now = 0;
    let looks = 0;
    const r = await Rig.start({
      sectors: 4096,
      front: { maxQueues: 1 },
      blkfront: {
        poll: {
          ms: 1,
          clock: () => now,
          defer: (fn) => {
            looks++;
            setImmediate(fn);
          },
        },
      },
    });
    await r.front.whenConnected();
    const writes = await Promise.all(
      Array.from({ length: 64 }, (_, i) => r.write(i * 8, pattern(i + 1, 4096))),
    );
    assert.deepEqual(new Set(writes), new Set([0]));
    for (let i = 0; i < 64; i += 9) {
      const got = await r.read(i * 8, 8);
      assert.equal(got.status, 0);
      assert.ok(Buffer.from(got.data).equals(Buffer.from(pattern(i + 1, 4096))), `block ${i}`);
    }
    assert.ok(looks > 0, "the ring polled");
    // The poll runs out (time passes, nothing in flight): an I/O issued later is still answered,
    // through the event the ring asked for before it slept.
    now += 10;
    await new Promise((res) => setTimeout(res, 20));
    const before = looks;
    assert.equal(await r.write(1000, pattern(99, 4096)), 0);
    const got = await r.read(1000, 8);
    assert.ok(Buffer.from(got.data).equals(Buffer.from(pattern(99, 4096))));
    await waitUntil(() => r.front.stats.inFlight === 0, "idle");
    assert.ok(looks >= before);
    assert.equal(r.front.stats.protocolErrors, 0);
    await r.front.close();
  });
});
