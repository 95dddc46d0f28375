#!/usr/bin/env node
// `docker-compose exec host-a node deploy/guest-io.mjs ['{"ios":400,"bs":4096}']`: asks this
// container's host process (deploy/host.mjs, XENSIM_CONTROL_PORT) to run a guest's write-verify job
// on a new disk served by blkback (see deploy/guest.mjs); prints the result as one JSON line.
// Exit 0 when every I/O completed and verified.
const port = Number(process.env.XENSIM_CONTROL_PORT ?? 9101);
const body = process.argv[2] ?? "{}";
try {
  const r = await fetch(`http://127.0.0.1:${port}/guest-io`, {
    method: "POST",
    body,
    signal: AbortSignal.timeout(Number(process.env.XENSIM_GUEST_IO_TIMEOUT_MS ?? 180_000)),
  });
  const out = await r.json();
  console.log(JSON.stringify(out));
  process.exit(out.ok ? 0 : 1);
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: e instanceof Error ? e.message : String(e) }));
  process.exit(1);
}
