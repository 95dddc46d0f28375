// Chaos testing as a product (issue 13), end to end with the real services:
//  - the one fault API on a running `xensim up` (toolstack HTTP, listed in /openapi.json, and the
//    `xensim chaos` command): bad input, a service that is not running, set / list / heal with a
//    timestamped timeline, a bus rule dropping every event that does not silence its own control,
//    a worker paused and resumed, xenstore EAGAIN on a transaction end seen by xenstore-utils;
//  - each checker caught in the act by a deliberately broken component: a backend acknowledging
//    writes it never made (ledger), a backend answering twice (one response per id), a backend
//    directory left in xenstore after the domain is gone (leak audit, against xenstored's table);
//  - replaying a seed reproduces the same fault timeline.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { auditDomainLeaks, checkLeaks, type ChaosReport, timelineKey } from "@xensim/chaos";
import { tempDir, waitFor } from "@xensim/testkit";
import { connectXenstore } from "@xensim/xenstore-client";
import { REPO_ROOT, spawnXensim, XENSIM_BIN, type XensimProcess } from "./harness.js";

/** Debian's python3 (python3-pyxs is installed for it). */
const PYTHON = "/usr/bin/python3";

function xensim(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [XENSIM_BIN, ...args], {
    encoding: "utf8",
    timeout: 240_000,
    cwd: REPO_ROOT,
    env: { ...process.env, XENSIM_LOG_LEVEL: "fatal", ...env },
  });
}

function report(dir: string, seed: number): ChaosReport {
  return JSON.parse(readFileSync(join(dir, `seed-${seed}`, "report.json"), "utf8")) as ChaosReport;
}

describe("chaos: the one fault API on a running host", { timeout: 240_000 }, () => {
  const dir = tempDir("xensim-chaos-api-");
  const stateDir = join(dir.path, "state");
  let up: XensimProcess;
  let api = "";
  let token = "";
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const cli = (args: string[]) => xensim(["chaos", "--state-dir", stateDir, ...args]);

  before(async () => {
    up = spawnXensim(["up", "--state-dir", stateDir, "--api-port", "0", "--no-examples"]);
    await waitFor(() => /toolstack: (http:\/\/127\.0\.0\.1:\d+)/.exec(up.output()), {
      timeoutMs: 90_000,
      message: `host up: ${up.output()}`,
    });
    api = /toolstack: (http:\/\/127\.0\.0\.1:\d+)/.exec(up.output())![1]!;
    token = readFileSync(join(stateDir, "api-token"), "utf8").trim();
  });
  after(async () => {
    await up?.stop();
    dir.cleanup();
  });

  it("lists its routes in /openapi.json and its kinds", async () => {
    const doc = await call("GET", "/openapi.json");
    const paths = Object.keys(doc.json.paths as object);
    for (const p of ["/chaos/kinds", "/chaos/faults", "/chaos/timeline", "/chaos/records", "/chaos/hosts"])
      assert.ok(paths.includes(p), p);
    const kinds = (await call("GET", "/chaos/kinds")).json.kinds as Array<{ kind: string }>;
    assert.ok(kinds.length >= 20);
    const r = cli(["kinds"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^evtchn\.lost\s+point\s+guest/m);
  });

  it("bad input: an unknown kind lists the known ones; a service that is not running says so", async () => {
    const bad = await call("POST", "/chaos/faults", { kind: "evtchn.vanished" });
    assert.equal(bad.status, 400);
    assert.match(String(bad.json.error), /unknown fault kind 'evtchn\.vanished'; known kinds: evtchn\.lost/);
    const gone = await call("POST", "/chaos/faults", { kind: "service.paused", service: "page-server" });
    assert.equal(gone.status, 404);
    assert.match(String(gone.json.error), /service page-server is not running \(running: .*xenstored/);
    const r = cli(["set", "no.such"]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /known kinds: evtchn\.lost/);
  });

  it("set, list, heal through the command; the timeline has both with their times", async () => {
    const t0 = Date.now();
    const s = cli(["set", "grant.map-failed", "--code", "GNTST_bad_gntref", "--count", "2", "--seed", "5"]);
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stdout, /fault \d+: grant\.map-failed on blkback/);
    const l = cli(["list"]);
    assert.match(l.stdout, /grant\.map-failed\tblkback/);
    const h = cli(["heal"]);
    assert.match(h.stdout, /healed \d+: grant\.map-failed on blkback/);
    const tl = (await call("GET", "/chaos/timeline")).json.timeline as Array<{
      at: number;
      action: string;
      kind: string;
      ok: boolean;
    }>;
    const mine = tl.filter((x) => x.kind === "grant.map-failed");
    assert.deepEqual(
      mine.map((x) => [x.action, x.ok]),
      [
        ["set", true],
        ["heal", true],
      ],
    );
    assert.ok(mine.every((x) => x.at >= t0 && x.at <= Date.now()));
  });

  it("control traffic is immune: a rule dropping every event of a service still answers and heals", async () => {
    const set = await call("POST", "/chaos/faults", {
      kind: "bus.event-lost",
      service: "guest",
      subject: ">",
    });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    // the fault plane answers through the dropped subject space
    const faults = await call("GET", "/faults");
    const guest = (
      faults.json.services as Array<{ target: string; components: Record<string, { rules: unknown }> }>
    ).find((x) => x.target === "guest");
    assert.ok(guest, "guest answered its status while all its events are dropped");
    assert.deepEqual(guest.components.bus?.rules, { events: [{ subject: ">", drop: 1 }] });
    const healed = await call("DELETE", "/chaos/faults");
    assert.equal(healed.status, 200);
    assert.equal((healed.json.healed as unknown[]).length, 1);
    const after = await call("GET", "/faults");
    const g2 = (
      after.json.services as Array<{ target: string; components: Record<string, { rules: unknown }> }>
    ).find((x) => x.target === "guest");
    assert.deepEqual(g2?.components.bus?.rules, {});
  });

  it("service.paused freezes a worker until healed", async () => {
    const set = await call("POST", "/chaos/faults", { kind: "service.paused", service: "blkback" });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    const hosts = (await call("GET", "/chaos/hosts")).json.hosts as Array<{
      services: Array<{ name: string; paused: boolean }>;
    }>;
    assert.equal(hosts[0]?.services.find((s) => s.name === "blkback")?.paused, true);
    // a frozen worker answers nothing on its chaos plane
    const blocked = await call("POST", "/chaos/faults", {
      kind: "store.latency",
      service: "blkback",
      delayMs: 1,
    });
    assert.equal(blocked.status, 404);
    await call("DELETE", `/chaos/faults?id=${String(set.json.id)}`);
    // resumed, it catches up with what waited and answers again
    await waitFor(
      async () =>
        (await call("POST", "/chaos/faults", { kind: "store.latency", service: "blkback", delayMs: 1 }))
          .status === 200,
      { timeoutMs: 20_000, intervalMs: 500, message: "blkback answers once resumed" },
    );
    await call("DELETE", "/chaos/faults");
  });

  it(
    "xenstore.eagain: a transaction end gets EAGAIN (a real client, python3-pyxs); healed, it commits",
    {
      skip:
        existsSync(PYTHON) && spawnSync(PYTHON, ["-c", "import pyxs"]).status === 0
          ? false
          : "python3-pyxs not installed",
    },
    async () => {
      const socket = join(stateDir, "xenstored.sock");
      // one transaction: write, commit; pyxs's commit() is False when xenstored answered EAGAIN
      const tx = () =>
        spawnSync(
          PYTHON,
          [
            "-c",
            "import pyxs,sys\nc=pyxs.Client(unix_socket_path=sys.argv[1])\nc.connect()\nc.transaction()\nc.write(b'/chaos-eagain',b'1')\nprint('committed' if c.commit() else 'eagain')\nc.close()\n",
            socket,
          ],
          { encoding: "utf8", timeout: 20_000 },
        );
      const set = await call("POST", "/chaos/faults", { kind: "xenstore.eagain", seed: 1 });
      assert.equal(set.status, 200, JSON.stringify(set.json));
      const storm = [tx(), tx()];
      for (const r of storm) assert.equal(r.stdout.trim(), "eagain", r.stdout + r.stderr);
      const rec = (await call("GET", "/chaos/records?services=xenstored")).json.records as Array<{
        kind: string;
      }>;
      assert.equal(rec.filter((r) => r.kind === "xenstore.eagain").length, 2, JSON.stringify(rec));
      await call("DELETE", "/chaos/faults");
      const healed = tx();
      assert.equal(healed.stdout.trim(), "committed", healed.stdout + healed.stderr);
    },
  );

  it("leak audit: a backend directory left after the domain is destroyed is caught from xenstored's table", async () => {
    const cfg = [
      'name = "leaky"',
      "memory = 32",
      "disk = [ 'vdev=xvda, access=rw, target=memory:size=4M' ]",
      "",
    ].join("\n");
    const res = await fetch(`${api}/domains?filename=leaky.cfg`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" },
      body: cfg,
    });
    assert.equal(res.status, 201);
    const domid = ((await res.json()) as { domid: number }).domid;
    assert.equal((await call("DELETE", `/domains/${domid}`)).status, 200);
    const socket = join(stateDir, "xenstored.sock");
    const env = { ...process.env, XENSTORED_PATH: socket };
    const exists = async (p: string) => spawnSync("xenstore-exists", [p], { env }).status === 0;
    const domains = async () =>
      new Set(((await call("GET", "/domains")).json.domains as Array<{ id: number }>).map((d) => d.id));
    // a clean teardown passes
    await waitFor(
      async () =>
        checkLeaks(await auditDomainLeaks([{ domid, guest: "leaky" }], await domains(), exists)).pass,
      {
        timeoutMs: 15_000,
        message: "the destroyed domain left nothing",
      },
    );
    // the deliberately broken backend: it leaves its directory behind
    const leak = `/local/domain/0/backend/vbd/${domid}/51712/state`;
    assert.equal(spawnSync("xenstore-write", [leak, "6"], { env }).status, 0);
    const r = checkLeaks(await auditDomainLeaks([{ domid, guest: "leaky" }], await domains(), exists));
    assert.equal(r.pass, false);
    assert.deepEqual((r.evidence[0] as { xenstoreNodes: string[] }).xenstoreNodes, [
      `/local/domain/0/backend/vbd/${domid}`,
    ]);
    spawnSync("xenstore-rm", [`/local/domain/0/backend/vbd/${domid}`], { env });
    // a watch a backend forgot on the dead guest's paths, caught in xenstored's own watch table
    const xs = await connectXenstore({ socket });
    try {
      const tables = {
        watches: async () => (await xs.control("watches")).split("\n").filter((l) => l !== ""),
      };
      const audit = async () =>
        checkLeaks(await auditDomainLeaks([{ domid, guest: "leaky" }], await domains(), exists, tables));
      assert.equal((await audit()).pass, true);
      const w = await xs.watch(`/local/domain/${domid}/device/vbd/51712/state`, "forgotten");
      const r = await audit();
      assert.equal(r.pass, false);
      assert.deepEqual((r.evidence[0] as { detail: { watches: string[] } }).detail.watches, [
        `0 /local/domain/${domid}/device/vbd/51712/state forgotten`,
      ]);
      await w.close();
      assert.equal((await audit()).pass, true);
    } finally {
      await xs.close();
    }
  });

  it("clock.skewed on the toolstack: the domain it builds gets a start_time an hour ahead; healed, the clock is true", async () => {
    const set = await call("POST", "/chaos/faults", {
      kind: "clock.skewed",
      service: "toolstack",
      delayMs: 3_600_000,
    });
    assert.equal(set.status, 200, JSON.stringify(set.json));
    const env = { ...process.env, XENSTORED_PATH: join(stateDir, "xenstored.sock") };
    const startTime = async (name: string): Promise<{ domid: number; startTime: number }> => {
      const res = await fetch(`${api}/domains?filename=${name}.cfg`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "text/plain" },
        body: `name = "${name}"\nmemory = 32\n`,
      });
      assert.equal(res.status, 201);
      const domid = ((await res.json()) as { domid: number }).domid;
      const vm = spawnSync("xenstore-read", [`/local/domain/${domid}/vm`], {
        env,
        encoding: "utf8",
      }).stdout.trim();
      const t = spawnSync("xenstore-read", [`${vm}/start_time`], { env, encoding: "utf8" }).stdout.trim();
      return { domid, startTime: Number(t) };
    };
    const skewed = await startTime("skewed");
    assert.ok(skewed.startTime > Date.now() / 1000 + 3000, `start_time ${skewed.startTime}`);
    assert.equal((await call("DELETE", "/chaos/faults?kind=clock.skewed")).status, 200);
    const records = (await call("GET", "/chaos/records")).json.records as Array<{
      kind: string;
      delayMs?: number;
    }>;
    assert.ok(
      records.some((r) => r.kind === "clock.skewed" && r.delayMs === 3_600_000),
      JSON.stringify(records),
    );
    const healed = await startTime("unskewed");
    assert.ok(Math.abs(healed.startTime - Date.now() / 1000) < 600, `start_time ${healed.startTime}`);
    for (const d of [skewed.domid, healed.domid]) await call("DELETE", `/domains/${d}`);
  });
});

describe("chaos run: checkers caught in the act, replay", { timeout: 600_000 }, () => {
  const dir = tempDir("xensim-chaos-run-");
  after(() => dir.cleanup());

  it("a backend acknowledging writes it never made fails the write ledger, with the lost blocks as evidence", () => {
    const out = join(dir.path, "ack");
    const r = xensim(["chaos", "run", "examples/chaos/backend-ack-before-write.yaml", "--out", out]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /FAIL at seed 1 .*ledger: \d+ acknowledged writes lost/);
    assert.match(
      r.stdout,
      /replay: xensim chaos run examples\/chaos\/backend-ack-before-write\.yaml --seed 1 --schedules 1/,
    );
    const rep = report(out, 1);
    const ledger = rep.checks.find((c) => c.name === "ledger")!;
    assert.equal(ledger.pass, false);
    const ev = ledger.evidence[0] as { failures: Array<{ reason: string }> };
    assert.ok(ev.failures.length > 0 && ev.failures.every((f) => typeof f.reason === "string"));
    assert.ok((rep.hitsByKind["backend.ack-before-write"] ?? 0) > 0);
    assert.match(readFileSync(join(out, "seed-1", "report.md"), "utf8"), /\| ledger \| \*\*FAIL\*\* \|/);
    assert.match(readFileSync(join(out, "seed-1", "report.svg"), "utf8"), /^<svg /);
  });

  it("a backend answering one request twice fails one-response-per-id", () => {
    const out = join(dir.path, "dup");
    const r = xensim(["chaos", "run", "examples/chaos/backend-response-duplicated.yaml", "--out", out]);
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const c = report(out, 1).checks.find((x) => x.name === "one-response")!;
    assert.equal(c.pass, false, JSON.stringify(c));
    assert.ok((c.evidence[0] as { protocolErrors: number }).protocolErrors >= 1);
  });

  it("store faults heal and pass every check; replaying the seed reproduces the fault timeline", () => {
    const scenario = join(dir.path, "replay.yaml");
    writeFileSync(
      scenario,
      [
        "name: replay",
        "seed: 11",
        "duration: 3s",
        "guests:",
        "  - name: g1",
        '    disk: "vdev=xvda, access=rw, target=memory:size=4M"',
        '    workload: "rw=randrw,bs=4k,iodepth=4,runtime=4,verify=crc32c"',
        "faults:",
        "  - kind: store.torn-write",
        "    at: 300ms",
        "    every: 700ms",
        "    for: 300ms",
        "    chance: 0.6",
        "    probability: 0.2",
        "  - kind: evtchn.duplicated",
        "    at: 500ms",
        "    for: 1s",
        "    probability: 0.3",
        "",
      ].join("\n"),
    );
    const runs = [join(dir.path, "r1"), join(dir.path, "r2")].map((out) => {
      const r = xensim(["chaos", "run", scenario, "--seed", "77", "--out", out]);
      assert.equal(r.status, 0, r.stdout + r.stderr);
      return report(out, 77);
    });
    const [a, b] = runs as [ChaosReport, ChaosReport];
    assert.equal(a.verdict, "pass");
    assert.ok(a.timeline.length >= 4);
    assert.equal(timelineKey(a.timeline), timelineKey(b.timeline));
    assert.ok(a.timeline.every((x) => x.ok && x.sentAt >= a.startedAt));
    assert.ok((a.hitsByKind["store.torn-write"] ?? 0) > 0, JSON.stringify(a.hitsByKind));
    assert.ok((a.hitsByKind["evtchn.duplicated"] ?? 0) > 0, JSON.stringify(a.hitsByKind));
  });

  it("a malformed scenario file gets file:line:col and what was expected", () => {
    const bad = join(dir.path, "bad.yaml");
    writeFileSync(bad, "name: bad\nfaults:\n  - kind: evtchn.lost\n    at: later\n");
    const r = xensim(["chaos", "run", bad]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad\.yaml:4:9: at: expected a duration such as 2s or 500ms/);
  });
});
