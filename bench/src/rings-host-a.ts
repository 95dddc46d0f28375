// Host process A of `xensim bench rings --placement distributed|three-hosts` (started by
// rings-distributed.ts): hypervisor, xenstored and page-server. Distributed: a guest on A's memory
// whose blkfronts talk to the blkback of host B (the bench process) over A's link, as in
// test/src/fixtures/blk-cross-host-a.ts. Three hosts (`guestHost` given): the guest is built homed on
// that host process (rings-host-g.ts runs it) and A only creates and removes its vbds.
// argv[2]: JSON {nats, entries: {hypervisor, xenstored, pageServer}, guestHost?}.
// stdout: JSON lines — {hv, xs, domid, guest} when ready; {done: pages, ...} per "run <json>" line;
// {vbd} per "addvbd <params>", {rmvbd} per "rmvbd <json>"; "stop".
import { createInterface } from "node:readline";
import type { VbdDirectories } from "@xensim/libxl";
import { startFrontendHost } from "@xensim/harness";
import { type RingsHostARun, runOnVbd } from "./rings-guest-run.js";

export type { RingsHostARun } from "./rings-guest-run.js";

const arg = JSON.parse(process.argv[2]!) as {
  nats: string;
  entries: { hypervisor: string; xenstored: string; pageServer: string };
  guestHost?: string;
};
const a = await startFrontendHost({ ...arg, guestName: "bench-rings", guestMemoryMib: 384 });

let disk = 0;
const addVbd = (params: string) =>
  a.addVbd({ vdev: `xvd${String.fromCharCode(97 + (disk++ % 26))}`, params });

createInterface({ input: process.stdin }).on("line", (l) => {
  void (async () => {
    if (l.startsWith("run ")) {
      const c = JSON.parse(l.slice(4)) as RingsHostARun;
      try {
        const dirs = await addVbd(c.params);
        try {
          console.log(
            JSON.stringify({
              done: c.pages,
              result: await runOnVbd(a.kernel!, a.xs!, dirs.devid, c, "host A"),
            }),
          );
        } finally {
          await a.removeVbd(dirs);
        }
      } catch (e) {
        console.log(JSON.stringify({ done: c.pages, error: e instanceof Error ? e.message : String(e) }));
      }
    } else if (l.startsWith("addvbd ")) {
      console.log(JSON.stringify({ vbd: await addVbd(l.slice(7)) }));
    } else if (l.startsWith("rmvbd ")) {
      await a.removeVbd(JSON.parse(l.slice(6)) as VbdDirectories);
      console.log(JSON.stringify({ rmvbd: true }));
    } else if (l === "stop") {
      await a.stop();
      process.exit(0);
    }
  })();
});
console.log(
  JSON.stringify({
    hv: a.hypervisorAddress,
    xs: a.xenstoredAddress,
    domid: a.domid,
    guest: a.guest,
  }),
);
