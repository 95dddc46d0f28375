// `xensim trace` across host processes: host A (this process: hypervisor, xenstored, page-server,
// the guest runtime, the toolstack) and host B (`xensim up --services page-server,blkback` in its own
// process), joined by the page-servers' link; NATS with the credentials of `xensim keys init` (each
// service may publish only its own trace subject). One guest write: its ring request, kick and
// completion come from host A's guest, the store write and the response from host B's blkback, the
// grant map from host A (where the grant table is: blkback's map travels the link), and the trace
// shows them in order — and nothing was refused under the permissions.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { findNatsServer, tempDir, waitFor } from "@xensim/testkit";
import type { XensimProcess } from "./harness.js";
import {
  events,
  inClockOrder,
  type Listener,
  listen,
  ONE_WRITE_CFG,
  oneWrite,
  WRITE_ORDER,
} from "./trace-harness.js";
import { startBackendHost, startCredentialedHostA } from "./two-hosts.js";

describe("xensim trace across host processes (NATS + gRPC)", () => {
  const dir = tempDir("xensim-trace-dist-");
  after(() => dir.cleanup());

  it(
    "one guest write: request, kick, grant map, store write, response, completion in order, from both hosts",
    { skip: findNatsServer() === undefined ? "nats-server not installed" : false },
    async () => {
      const a = await startCredentialedHostA({ dir: dir.path, sharedMemoryBytes: 512 << 20 });
      const { nats, hostA, token, api } = a;
      let hostB: XensimProcess | undefined;
      let trace: Listener | undefined;
      try {
        hostB = await startBackendHost(a, 30_000);
        trace = listen(["--api", api, "--json", "--kind", "ring,evtchn,grant,store"], {
          XENSIM_API_TOKEN: token,
        });
        await waitFor(() => trace!.stderr().includes("tracing"), {
          timeoutMs: 30_000,
          message: `trace listener: ${trace.stderr()}`,
        });
        const res = await fetch(`${api}/domains`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ config: ONE_WRITE_CFG, filename: "one.cfg" }),
        });
        const created = (await res.json()) as { domid: number; error?: string };
        assert.equal(res.status, 201, JSON.stringify(created));
        const domid = created.domid;
        await waitFor(
          () => events(trace!).some((e) => e.kind === "ring" && e.op === "completion" && e.domid === domid),
          {
            timeoutMs: 60_000,
            message: `the write's completion: ${trace.stdout().slice(-2000)} ${trace.stderr()}`,
          },
        );
        trace.proc.kill("SIGINT");
        assert.equal(await trace.exited, 0, trace.stderr());

        // ordered by the monotonic clock: one clock for both host processes of this machine
        const evs = inClockOrder(events(trace));
        const at = oneWrite(evs, domid);
        const seen = [...WRITE_ORDER].sort((a, b) => at[a]! - at[b]!);
        assert.deepEqual(seen, WRITE_ORDER, JSON.stringify(at));
        const where = (k: string) => `${evs[at[k]!]!.host}/${evs[at[k]!]!.svc}`;
        assert.equal(where("request"), "hostA/guest");
        assert.equal(where("completion"), "hostA/guest");
        assert.equal(where("store"), "hostB/blkback");
        assert.equal(where("response"), "hostB/blkback");
        // blkback's map travels the link and runs where the grant table is: host A's link thread
        // (host A is what matters: which of its threads records it was seen to vary — page-server as a
        // rule, once xenstored's — and is left as an open question in the notes)
        assert.match(where("map"), /^hostA\//);
        // and blkback's kick back (a SEND record) is executed there too, before the completion
        const backKick = evs.findIndex(
          (e, k) =>
            k > at.response! && e.kind === "evtchn" && e.op === "send" && e.domid === 0 && e.peer === domid,
        );
        assert.ok(backKick > at.response! && backKick < at.completion!, JSON.stringify({ backKick, ...at }));
        assert.equal(`${evs[backKick]!.host}/${evs[backKick]!.svc}`, "hostA/page-server");
        // under the credentials nothing was refused (the trace subjects are in the permissions)
        const m = (await hostA.metrics()).body;
        assert.doesNotMatch(m, /xensim_bus_refused_total\{[^}]*\} [1-9]/, "no subject refused on host A");
        assert.doesNotMatch(hostB.output(), /NATS refused/, "nothing refused on host B");
      } finally {
        if (trace && trace.proc.exitCode === null) trace.proc.kill("SIGKILL");
        if (hostB) await hostB.stop();
        await hostA.stop();
        await nats.stop();
      }
    },
  );
});
