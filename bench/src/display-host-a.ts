// Host process A of `xensim bench display --placement distributed` (started by display.ts):
// hypervisor, xenstored and page-server, and a guest on A's memory whose displfront talks to the
// displback of host B (the bench process). What the guest writes reaches B over the hosts' link
// (the page-servers; docs/data-plane.md).
// argv[2]: JSON {nats, entries}. stdout: JSON lines — {hv, xs, domid} when ready; {done, result}
// per "run <json>" line; "stop" ends it.
import { createInterface } from "node:readline";
import { type DisplayRunSpec, runDisplayFlips } from "./display-run.js";
import { startFrontendHost } from "@xensim/harness";

const arg = JSON.parse(process.argv[2]!) as {
  nats: string;
  entries: { hypervisor: string; xenstored: string; pageServer: string };
};
const a = await startFrontendHost({ ...arg, guestName: "bench-display", guestMemoryMib: 128 });
const kernel = a.kernel!;
const xs = a.xs!;
await kernel.xc.gnttabSetupTable(a.domid, 32);

createInterface({ input: process.stdin }).on("line", (l) => {
  void (async () => {
    if (l.startsWith("run ")) {
      const spec = JSON.parse(l.slice(4)) as DisplayRunSpec;
      try {
        const result = await runDisplayFlips({
          xs0: a.xs0,
          guestXs: xs,
          kernel,
          domid: a.domid,
          spec,
        });
        console.log(JSON.stringify({ done: spec.devid, result }));
      } catch (e) {
        console.log(JSON.stringify({ done: spec.devid, error: e instanceof Error ? e.message : String(e) }));
      }
    } else if (l === "stop") {
      await a.stop();
      process.exit(0);
    }
  })();
});
console.log(JSON.stringify({ hv: a.hypervisorAddress, xs: a.xenstoredAddress, domid: a.domid }));
