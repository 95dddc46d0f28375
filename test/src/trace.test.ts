// `xensim trace` against `xensim up` (one embedded host process): a guest created with xl whose
// workload is one 4 KiB write (persistent grants off, so blkback maps the data page for it). The
// JSON trace shows, in order, the ring request, the kick, the grant map, the store write, the
// response and the completion, all of that one request; the text trace of another listener at the
// same time shows only the kind it asked for; bad kinds and domains get an error naming the valid ones.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tempDir, waitFor } from "@xensim/testkit";
import { spawnXensim, XENSIM_BIN, type XensimProcess } from "./harness.js";
import {
  events,
  inClockOrder,
  type Listener,
  listen,
  oneWrite,
  ONE_WRITE_CFG,
  WRITE_ORDER,
} from "./trace-harness.js";

describe("xensim trace: one guest write on an embedded host", () => {
  const dir = tempDir("xensim-trace-");
  const stateDir = join(dir.path, "state");
  let up: XensimProcess | undefined;
  const listeners: Listener[] = [];

  before(async () => {
    const examples = join(dir.path, "examples");
    mkdirSync(examples);
    up = spawnXensim(["up", "--state-dir", stateDir, "--api-port", "0", "--examples", examples]);
    await waitFor(() => /toolstack: http/.test(up!.output()), {
      timeoutMs: 150_000,
      message: () => `xensim up: ${up?.output()}`,
    });
  });
  after(async () => {
    for (const l of listeners) if (l.proc.exitCode === null) l.proc.kill("SIGKILL");
    await up?.stop();
    dir.cleanup();
  });

  it("shows the ring request, the kick, the grant map, the store write, the response and the completion in order", async () => {
    const json = listen(["--state-dir", stateDir, "--json"]);
    const text = listen(["--state-dir", stateDir, "--kind", "ring"]);
    listeners.push(json, text);
    await waitFor(() => json.stderr().includes("tracing") && text.stderr().includes("tracing"), {
      timeoutMs: 30_000,
      message: `trace listeners: ${json.stderr()} ${text.stderr()}`,
    });
    const cfg = join(dir.path, "one.cfg");
    writeFileSync(cfg, ONE_WRITE_CFG);
    const create = spawnSync(process.execPath, [XENSIM_BIN, "xl", "--state-dir", stateDir, "create", cfg], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(create.status, 0, create.stderr);
    const domid = Number(/Domain (\d+)/.exec(create.stdout + create.stderr)?.[1]);
    assert.ok(domid > 0, create.stdout + create.stderr);
    await waitFor(
      () => events(json).some((e) => e.kind === "ring" && e.op === "completion" && e.domid === domid),
      {
        timeoutMs: 60_000,
        message: `the write's completion in the trace: ${json.stdout().slice(-2000)}`,
      },
    );
    json.proc.kill("SIGINT");
    text.proc.kill("SIGINT");
    assert.equal(await json.exited, 0, json.stderr());
    await text.exited;

    // Ordered by the monotonic clock, across the services' threads.
    const evs = inClockOrder(events(json));
    const at = oneWrite(evs, domid);
    const order = WRITE_ORDER;
    const seen = [...order].sort((a, b) => at[a]! - at[b]!);
    assert.deepEqual(seen, order, JSON.stringify(at));
    // Where each happened: the guest pushes, kicks and completes; blkback maps, writes, responds.
    assert.deepEqual(
      order.map((k) => `${evs[at[k]!]!.svc}`),
      ["guest", "guest", "blkback", "blkback", "blkback", "guest"],
    );
    const req = evs[at.request!]!;
    assert.equal(req.peer, 0);
    assert.equal(req.sector, 0);
    assert.equal(req.nrSegments, 1);
    assert.equal(evs[at.map!]!.status, "okay");
    assert.equal(evs[at.store!]!.nrSectors, 8);
    assert.equal(evs[at.response!]!.status, "OKAY");
    assert.equal(evs[at.completion!]!.status, "OKAY");
    // xs messages with their payloads: the guest's frontend wrote its ring-ref.
    assert.ok(
      evs.some(
        (e) =>
          e.kind === "xs" &&
          e.op === "WRITE" &&
          e.domid === domid &&
          Array.isArray(e.payload) &&
          /device\/vbd\/\d+\/(queue-\d+\/)?ring-ref/.test(String(e.payload[0])),
      ),
      "the frontend's ring-ref write",
    );

    // The text listener asked for ring events only, and got this write's request as a line.
    const lines = text.stdout().split("\n").filter(Boolean);
    assert.ok(lines.length > 0, text.stderr());
    assert.ok(
      lines.every((l) => / ring /.test(l)),
      lines.join("\n"),
    );
    assert.ok(
      lines.some((l) => new RegExp(`ring\\s+request\\s+d${domid}>d0\\s.*operation=write`).test(l)),
      lines.join("\n"),
    );
  });

  it("shows displif requests, responses, flip events and completions of a guest's display", async () => {
    const l = listen(["--state-dir", stateDir, "--json", "--kind", "displif"]);
    listeners.push(l);
    await waitFor(() => l.stderr().includes("tracing"), { timeoutMs: 30_000, message: l.stderr() });
    const cfg = join(dir.path, "disp.cfg");
    writeFileSync(
      cfg,
      [
        'name = "disp"',
        'type = "hvm"',
        "memory = 64",
        "vdispl = [ 'backend=0, be-alloc=1, connectors=HDMI-A-1:320x240' ]",
        "",
      ].join("\n"),
    );
    const create = spawnSync(process.execPath, [XENSIM_BIN, "xl", "--state-dir", stateDir, "create", cfg], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(create.status, 0, create.stderr);
    const domid = Number(/Domain (\d+)/.exec(create.stdout + create.stderr)?.[1]);
    const flips = () =>
      events(l).filter((e) => e.domid === domid && e.op === "completion" && e.operation === "pg_flip");
    await waitFor(() => flips().length >= 2, {
      timeoutMs: 60_000,
      message: `pg_flip completions: ${l.stdout().slice(-2000)}`,
    });
    l.proc.kill("SIGINT");
    await l.exited;
    const evs = inClockOrder(events(l));
    assert.ok(evs.every((e) => e.kind === "displif"));
    const done = evs.findIndex(
      (e) => e.domid === domid && e.op === "completion" && e.operation === "pg_flip",
    );
    const id = evs[done]!.id;
    const req = evs.findIndex(
      (e) => e.op === "request" && e.domid === domid && e.id === id && e.operation === "pg_flip",
    );
    const rsp = evs.findIndex(
      (e) => e.op === "response" && e.peer === domid && e.id === id && e.operation === "pg_flip",
    );
    assert.ok(req >= 0 && req < rsp && rsp < done, JSON.stringify({ req, rsp, done }));
    assert.equal(evs[rsp]!.svc, "displback");
    assert.equal(evs[rsp]!.status, 0);
    assert.match(String(evs[req]!.fbCookie), /^0x[0-9a-f]+$/);
    assert.ok(
      evs.some((e) => e.op === "event" && e.peer === domid && e.type === "pg_flip"),
      "the backend's flip events",
    );
    assert.ok(
      evs.some((e) => e.op === "request" && e.domid === domid && e.operation === "set_config"),
      "the mode set before the flips",
    );
  });

  it("shows a booting HVM guest's ioreqs: the UART banner, then the PCI probe's CF8/CFC accesses, in order", async () => {
    const l = listen(["--state-dir", stateDir, "--json", "--kind", "ioreq"]);
    listeners.push(l);
    await waitFor(() => l.stderr().includes("tracing"), { timeoutMs: 30_000, message: l.stderr() });
    const cfg = join(dir.path, "io.cfg");
    writeFileSync(
      cfg,
      ['name = "io1"', 'type = "hvm"', "memory = 32", 'xensim_firmware = "bios"', ""].join("\n"),
    );
    const create = spawnSync(process.execPath, [XENSIM_BIN, "xl", "--state-dir", stateDir, "create", cfg], {
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(create.status, 0, create.stderr);
    const domid = Number(/Domain (\d+)/.exec(create.stdout + create.stderr)?.[1]);
    assert.ok(domid > 0, create.stdout + create.stderr);
    // The BIOS's last line goes out after the probe: wait for its completion.
    const sends = () =>
      events(l).filter(
        (e) => e.domid === domid && e.op === "complete" && e.type === "pio" && e.addr === "0x3f8",
      );
    await waitFor(() => sends().length >= 4, {
      timeoutMs: 60_000,
      message: `the BIOS's UART writes in the trace: ${l.stdout().slice(-2000)}`,
    });
    await new Promise((r) => setTimeout(r, 1000));
    l.proc.kill("SIGINT");
    assert.equal(await l.exited, 0, l.stderr());
    const evs = inClockOrder(events(l)).filter((e) => e.domid === domid || e.peer === domid);
    assert.ok(evs.length > 0);
    assert.ok(evs.every((e) => e.kind === "ioreq"));
    // Xen's side, on the guest's vCPU thread: what it sent, in the order the BIOS issued it.
    const sent = evs.filter((e) => e.svc === "guest" && e.op === "send");
    const banner = `xensim BIOS: booting io1 (boot 1)\r\n`;
    const uart = sent.findIndex(
      (e) => e.type === "pio" && e.addr === "0x3f8" && e.dir === "write" && e.data_is_ptr === true,
    );
    assert.ok(uart >= 0, "the banner's rep outs to COM1");
    assert.equal(sent[uart]!.count, banner.length);
    assert.equal(sent[uart]!.size, 1);
    assert.equal(sent[uart]!.state, "NONE->READY");
    // The host bridge's vendor/device: a 4-byte CF8 write of 0x80000000, then the CFC read that
    // Xen turned into a PCI_CONFIG request for 00:00.0 register 0 (the vendor id, 2 bytes).
    const cf8 = sent.findIndex(
      (e) =>
        e.type === "pio" &&
        e.addr === "0xcf8" &&
        e.dir === "write" &&
        e.size === 4 &&
        e.data === "0x80000000",
    );
    assert.ok(cf8 > uart, `CF8 (${cf8}) after the banner (${uart})`);
    const cfc = sent.findIndex((e, k) => k > cf8 && e.vcpu === sent[cf8]!.vcpu);
    assert.deepEqual(
      [sent[cfc]!.type, sent[cfc]!.sbdf, sent[cfc]!.reg, sent[cfc]!.dir, sent[cfc]!.size],
      ["pci_config", "00:00.0", "0x0", "read", 2],
    );
    const laterUart = sent.findIndex(
      (e, k) => k > cfc && e.type === "pio" && e.addr === "0x3f8" && e.dir === "write",
    );
    assert.ok(laterUart > cfc, "the PCI lines are printed after the probe");
    // That CFC read's round trip: Xen sends, the device model takes and responds, Xen completes.
    const cfcAt = evs.indexOf(sent[cfc]!);
    const isIt = (e: (typeof evs)[number]) =>
      e.type === "pci_config" && e.sbdf === "00:00.0" && e.reg === "0x0";
    const take = evs.findIndex((e, k) => k > cfcAt && e.op === "take" && isIt(e));
    const respond = evs.findIndex((e, k) => k > take && e.op === "respond" && isIt(e));
    const complete = evs.findIndex((e, k) => k > respond && e.op === "complete" && isIt(e));
    assert.ok(
      cfcAt < take && take < respond && respond < complete,
      JSON.stringify({ cfcAt, take, respond, complete }),
    );
    assert.equal(evs[take]!.svc, "device-model");
    assert.equal(evs[take]!.state, "READY->INPROCESS");
    assert.equal(evs[respond]!.state, "INPROCESS->IORESP_READY");
    assert.equal(evs[complete]!.state, "IORESP_READY->NONE");
    assert.equal(evs[take]!.server, evs[complete]!.server, "one server");
    assert.equal(evs[respond]!.data, evs[complete]!.data, "the value the guest got");
    assert.notEqual(evs[complete]!.data, "0xffffffffffffffff", "a device answered");
  });

  it("filters by domain name, and refuses unknown kinds and bad domains", async () => {
    const bad = spawnSync(
      process.execPath,
      [XENSIM_BIN, "trace", "--state-dir", stateDir, "--kind", "rings"],
      {
        encoding: "utf8",
        timeout: 30_000,
      },
    );
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /unknown trace kind 'rings' \(kinds: xs, ring, evtchn, grant, store/);
    const url = readFileSync(join(stateDir, "toolstack.url"), "utf8").trim();
    const token = readFileSync(join(stateDir, "api-token"), "utf8").trim();
    const auth = { authorization: `Bearer ${token}` };
    const r = await fetch(`${url}/trace?domain=one`, { headers: auth });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: string }).error, /not a domain id/);
    assert.equal((await fetch(`${url}/trace`)).status, 401, "the API token is needed");
    const noDomain = spawnSync(
      process.execPath,
      [XENSIM_BIN, "trace", "--state-dir", stateDir, "--domain", "nosuch"],
      { encoding: "utf8", timeout: 30_000 },
    );
    assert.equal(noDomain.status, 1);
    assert.match(noDomain.stderr, /nosuch is an invalid domain identifier/);
    // By name: xl's name resolves to the domid; whatever arrives in two seconds concerns it.
    const byName = listen(["--state-dir", stateDir, "--domain", "one", "--json", "--seconds", "2"]);
    listeners.push(byName);
    assert.equal(await byName.exited, 0, byName.stderr());
    assert.match(byName.stderr(), /of domain \d+/);
    const d = Number(/of domain (\d+)/.exec(byName.stderr())![1]);
    for (const e of events(byName)) {
      assert.ok(e.domid === d || e.peer === d, JSON.stringify(e));
    }
  });
});
