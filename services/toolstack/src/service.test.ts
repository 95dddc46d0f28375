// The toolstack service on an embedded host (hypervisor, xenstored, blkback and toolstack as worker
// threads), driven over its HTTP API with the xl.cfg files of examples/.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { createInProcessBus, createInProcessCallClient, type EventBus } from "@xensim/bus";
import { loadHypervisorProto, loadXenstoreProto } from "@xensim/proto";
import { type HostHandle, startHost } from "@xensim/runtime";
import { freePort, waitFor } from "@xensim/testkit";
import { Toolstack } from "@xensim/toolstack";
import { XenCtrl } from "@xensim/xenctrl";
import { connectXenstore, type XenstoreClient } from "@xensim/xenstore-client";
import { parseXlCfg } from "@xensim/xlcfg";
import { buildApi, OPENAPI } from "./api.js";
import { ChaosCoordinator } from "./chaos.js";

const root = resolve(import.meta.dirname, "..", "..", "..");
const entry = (svc: string) => join(root, "services", svc, "dist", "main.js");
const examples = join(root, "examples");

describe("OpenAPI document", () => {
  it("describes every route with its method", async () => {
    const never = new Proxy({}, { get: () => () => Promise.reject(new Error("not for this test")) });
    const toolstack = new Toolstack({
      xs: never as never,
      hv: never as never,
      clock: { now: () => 0, wallSeconds: () => 0, sleep: async () => {} },
      log: { info() {}, warn() {}, error() {} },
      newUuid: () => "00000000-0000-4000-8000-000000000000",
      hostMemoryMib: 64,
    });
    const bus = createInProcessBus({ name: `openapi-${process.pid}` });
    const { app, routes } = buildApi({
      toolstack,
      parse: { maxMemoryMib: 64 },
      maxConfigBytes: 4096,
      live: { xs: never as never, bus, evtchnStatus: () => Promise.reject(new Error("not for this test")) },
      chaos: new ChaosCoordinator({ bus, pauseDomain: async () => 0, unpauseDomain: async () => 0 }),
    });
    after(() => bus.close());
    await app.ready();
    assert.ok(routes.length >= 12);
    const paths = OPENAPI.paths as Record<string, Record<string, unknown>>;
    for (const r of routes) {
      const p = r.url.replace(/:([a-z]+)/g, "{$1}");
      assert.ok(paths[p]?.[r.method.toLowerCase()], `${r.method} ${r.url} is not in the OpenAPI document`);
    }
    const described = Object.entries(paths).flatMap(([p, ms]) => Object.keys(ms).map((m) => `${m} ${p}`));
    assert.equal(described.length, routes.length, "nothing described that is not served");
    const res = await app.inject({ method: "GET", url: "/openapi.json" });
    assert.equal(res.json().openapi, "3.0.3");
    // checks that need no host: dry run, bad bodies, bad ids
    const dry = await app.inject({
      method: "POST",
      url: "/domains?dryRun=1&filename=x.cfg",
      headers: { "content-type": "text/plain" },
      payload: 'name = "x"\nmemory = 16',
    });
    assert.equal(dry.statusCode, 200);
    assert.equal(dry.json().config.memoryMib, 16);
    const bad = await app.inject({
      method: "POST",
      url: "/domains?dryRun=1&filename=x.cfg",
      headers: { "content-type": "text/plain" },
      payload: 'name = "x"\nmemory = 99',
    });
    assert.equal(bad.statusCode, 400);
    assert.deepEqual(bad.json().messages, [
      "x.cfg:2:10: memory 99 is out of range (expected an integer number of MiB in 1..64)",
    ]);
    const notJson = await app.inject({
      method: "POST",
      url: "/domains",
      headers: { "content-type": "application/json" },
      payload: "{not json",
    });
    assert.equal(notJson.statusCode, 400);
    const big = await app.inject({
      method: "POST",
      url: "/domains",
      headers: { "content-type": "text/plain" },
      payload: "#".repeat(5000),
    });
    assert.equal(big.statusCode, 400);
    assert.equal((await app.inject({ method: "GET", url: "/domains/x1" })).statusCode, 400);
    assert.equal(
      (await app.inject({ method: "POST", url: "/domains/1/disks", payload: {} })).statusCode,
      400,
    );
    await app.close();
  });

  it("every example config parses", () => {
    const files = readdirSync(examples).filter((f) => f.endsWith(".cfg"));
    assert.ok(files.length >= 2);
    for (const f of files) {
      const r = parseXlCfg(readFileSync(join(examples, f), "utf8"), { file: f, maxMemoryMib: 1024 });
      assert.ok(r.ok, `${f}: ${JSON.stringify(r.ok ? "" : r.errors)}`);
    }
  });
});

describe("toolstack service over HTTP", { timeout: 60_000 }, () => {
  let host: HostHandle;
  let bus: EventBus;
  let xc0: XenCtrl;
  let xs0: XenstoreClient;
  let base: string;
  const closers: Array<() => unknown> = [];

  before(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    host = await startHost({
      services: [
        { name: "hypervisor", entry: entry("hypervisor"), config: {} },
        { name: "xenstored", entry: entry("xenstored"), config: {} },
        { name: "blkback", entry: entry("blkback"), config: { params: { allowFiles: false } } },
        {
          name: "toolstack",
          entry: entry("toolstack"),
          config: {
            hostMemoryMib: 200,
            api: { host: "127.0.0.1", port },
            disks: { imageDir: tmpdir(), maxMemoryBytes: 1024 ** 3 },
            timeouts: { backendMs: 5000, shutdownMs: 300, detachMs: 300, destroyDeviceMs: 300, reapMs: 5000 },
          },
        },
      ],
      sharedMemoryBytes: 256 << 20,
      logLevel: "warn",
    });
    closers.push(() => host.stop());
    await host.ready;
    bus = createInProcessBus({ name: host.busName });
    const hv = createInProcessCallClient(
      loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service,
      "hypervisor",
    );
    const xsCalls = createInProcessCallClient(
      loadXenstoreProto().xensim.xenstore.v1.Xenstore.service,
      "xenstored",
    );
    closers.unshift(
      () => bus.close(),
      () => hv.close(),
      () => xsCalls.close(),
    );
    xc0 = new XenCtrl({ domid: 0, calls: hv, bus });
    xs0 = await connectXenstore({ calls: xsCalls, bus, clientName: "test-dom0" });
    closers.unshift(() => xs0.close());
  });
  after(async () => {
    for (const c of closers) await Promise.resolve(c()).catch(() => {});
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON answers, checked field by field
  async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const init: RequestInit = { method, signal: AbortSignal.timeout(15_000) };
    if (typeof body === "string") init.body = body;
    else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { "content-type": "application/json" };
    }
    if (typeof body === "string") init.headers = { "content-type": "text/plain" };
    const r = await fetch(`${base}${path}`, init);
    const text = await r.text();
    return { status: r.status, body: text === "" ? undefined : JSON.parse(text) };
  }

  async function assertNothingLeft(what: string) {
    const l = await xc0.domainList();
    assert.deepEqual(
      l.domains.filter((d) => d.domid !== 0).map((d) => d.domid),
      [],
      `${what}: domains`,
    );
    assert.deepEqual(
      (await xs0.ls("/local/domain")).filter((d) => d !== "0"),
      [],
      `${what}: homes`,
    );
    assert.deepEqual(await xs0.ls("/vm").catch(() => []), [], `${what}: /vm`);
    assert.deepEqual(await xs0.ls("/libxl").catch(() => []), [], `${what}: /libxl`);
    assert.deepEqual(
      await xs0.ls("/local/domain/0/error/backend/vbd").catch(() => []),
      [],
      `${what}: error nodes`,
    );
    assert.deepEqual(await xs0.ls("/local/domain/0/backend/vbd").catch(() => []), [], `${what}: backends`);
  }

  it("create from examples/guest1.cfg → list → disks in InitWait → destroy leaves nothing", async () => {
    const text = readFileSync(join(examples, "guest1.cfg"), "utf8");
    const c = await api("POST", "/domains?filename=guest1.cfg", text);
    assert.equal(c.status, 201, JSON.stringify(c.body));
    const domid = c.body.domid as number;
    assert.equal(c.body.name, "guest1");
    assert.equal(c.body.steps.at(-1).step, "unpause");
    const l = await api("GET", "/domains");
    assert.deepEqual(
      l.body.domains.map((d: { name: string; id: number; state: string; memMib: number; vcpus: number }) => [
        d.name,
        d.id,
        d.state,
        d.memMib,
        d.vcpus,
      ]),
      [
        ["Domain-0", 0, "r-----", 4, 12],
        ["guest1", domid, "r-----", 64, 2],
      ],
    );
    const one = await api("GET", `/domains/${domid}`);
    assert.equal(one.body.uuid, c.body.uuid);
    const disks = await api("GET", `/domains/${domid}/disks`);
    assert.equal(disks.body.disks.length, 1);
    assert.equal(disks.body.disks[0].vdev, "xvda");
    assert.equal(disks.body.disks[0].backendState, "InitWait");
    assert.equal(disks.body.disks[0].params, "memory:size=64M");
    assert.equal(
      await xs0.read(`/vm/${c.body.uuid}/xensim/workload`),
      "rw=randrw,bs=4k,iodepth=16,size=32m,runtime=30,verify=crc32c",
    );

    // pause / unpause
    assert.equal((await api("POST", `/domains/${domid}/pause`)).status, 204);
    assert.equal((await api("GET", `/domains/${domid}`)).body.state, "--p---");
    assert.equal((await api("POST", `/domains/${domid}/unpause`)).status, 204);
    assert.equal((await api("POST", `/domains/${domid}/unpause`)).status, 400, "not paused");

    const d = await api("DELETE", `/domains/${domid}`);
    assert.equal(d.status, 200, JSON.stringify(d.body));
    await assertNothingLeft("after destroy");
    const metrics = (await host.metrics()).body;
    assert.match(
      metrics,
      /toolstack_flow_steps_total\{[^}]*flow="create",step="vbd-add",outcome="ok"[^}]*\} 1/,
    );
    assert.match(
      metrics,
      /toolstack_flow_steps_total\{[^}]*flow="destroy",step="domain-destroy",outcome="ok"[^}]*\} 1/,
    );
    assert.equal((await api("GET", `/domains/${domid}`)).status, 404);
    assert.equal((await api("DELETE", `/domains/${domid}`)).status, 404);
    assert.equal((await api("DELETE", "/domains/0")).status, 400);
    assert.equal((await api("GET", "/domains/abc")).status, 400);
  });

  it("bad configs → 400 with every error's file, line and column; nothing created", async () => {
    const bad = [
      'name = "bad"',
      "memory = 0",
      "disk = [ 'format=qcow2, vdev=xvda, target=memory:size=1M', 'vdev=xvdb, target=memory:size=lots' ]",
      'on_crash = "coredump-destroy"',
      "bogus = 1",
    ].join("\n");
    const r = await api("POST", "/domains", { config: bad, filename: "bad.cfg" });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.messages, [
      "bad.cfg:2:10: memory 0 is out of range (expected an integer number of MiB in 1..200)",
      "bad.cfg:3:18: disk: format 'qcow2' is not supported (xensim backends serve raw images) (expected format=raw)",
      "bad.cfg:3:60: disk xvdb: size 'lots' is not <digits>[K|M|G|T] (expected a valid store spec or image path)",
      "bad.cfg:4:12: on_crash 'coredump-destroy': coredump-* actions are not supported (no core dumps) (expected destroy, restart, preserve or soft-reset)",
      "bad.cfg:5:1: unknown setting 'bogus' (expected one of name, uuid, type, builder, memory, maxmem, vcpus, maxvcpus, disk, on_poweroff, on_reboot, on_watchdog, on_crash, on_soft_reset, xensim_workload, xensim_blkfront, device_model_version, device_model_args, device_model_args_hvm, xensim_firmware, vdispl)",
    ]);
    assert.equal(r.body.errors[0].line, 2);
    assert.equal((await api("POST", "/domains", { nope: 1 })).status, 400);
    // too much memory for what is left: 507, nothing created
    const big = await api("POST", "/domains", { config: 'name = "big"\nmemory = 199' });
    assert.equal(big.status, 507, JSON.stringify(big.body));
    // a backend that cannot open its store: 500 naming the step, rolled back
    const nofile = await api("POST", "/domains", {
      config: `name = "nofile"\nmemory = 8\ndisk = [ 'vdev=xvda, target=xensim-no-such-${process.pid}.raw' ]`,
    });
    assert.equal(nofile.status, 500, JSON.stringify(nofile.body));
    assert.equal(nofile.body.step, "wait-backends");
    assert.ok(
      nofile.body.steps.some(
        (s: { step: string; outcome: string }) => s.step === "undo domain-create" && s.outcome === "undone",
      ),
    );
    // disks the host's policy refuses: 400 at create with the reason, nothing built (issue 14)
    for (const [target, reason] of [
      ["/etc/passwd", "outside the image directory"],
      ["file:path=/etc/shadow", "outside the image directory"],
      ["../../x.raw", "contains '..'"],
      ["file:path=a/../../x.raw,size=1M", "contains '..'"],
      ["memory:size=100G", "does not fit this host's limit for disks held in memory"],
      ["array:profile=iscsi-array,size=100G,seed=1", "does not fit this host's limit"],
    ] as const) {
      const r = await api("POST", "/domains", {
        config: `name = "refused"\nmemory = 8\ndisk = [ 'vdev=xvda, target=${target}' ]`,
      });
      assert.equal(r.status, 400, `${target}: ${JSON.stringify(r.body)}`);
      assert.ok((r.body.messages as string[]).join("\n").includes(reason), `${target}: ${r.body.messages}`);
    }
    await assertNothingLeft("after bad configs");
  });

  it("on_* actions from the guest's SCHEDOP_shutdown (dom0's domainShutdown stands in)", async () => {
    const cfg = (name: string) =>
      [
        `name = "${name}"`,
        "memory = 8",
        "disk = [ 'vdev=xvda, target=memory:size=1M' ]",
        'on_poweroff = "destroy"',
        'on_reboot = "restart"',
        'on_crash = "preserve"',
        'on_watchdog = "destroy"',
        'on_soft_reset = "soft-reset"',
      ].join("\n");
    const c = await api("POST", "/domains", { config: cfg("act") });
    assert.equal(c.status, 201, JSON.stringify(c.body));
    let domid = c.body.domid as number;
    const actions = async () => (await api("GET", "/actions")).body.actions as Array<Record<string, unknown>>;
    const waitAction = async (n: number) => {
      await waitFor(async () => (await actions()).length >= n, { timeoutMs: 10_000, message: `action ${n}` });
      return (await actions())[n - 1]!;
    };

    assert.equal(await xc0.domainShutdown(domid, 5), 0); // soft_reset
    const sr = await waitAction(1);
    assert.deepEqual([sr.action, sr.outcome, sr.domid], ["soft-reset", "ok", domid]);
    assert.equal((await api("GET", `/domains/${domid}`)).body.state, "r-----");
    await waitFor(
      async () => (await api("GET", `/domains/${domid}/disks`)).body.disks[0]?.backendState === "InitWait",
    );

    assert.equal(await xc0.domainShutdown(domid, 1), 0); // reboot
    const rs = await waitAction(2);
    assert.deepEqual([rs.action, rs.outcome], ["restart", "ok"]);
    domid = rs.newDomid as number;
    assert.equal((await api("GET", `/domains/${domid}`)).body.name, "act");

    assert.equal(await xc0.domainShutdown(domid, 3), 0); // crash
    const cr = await waitAction(3);
    assert.deepEqual([cr.action, cr.outcome], ["preserve", "ok"]);
    assert.equal((await api("GET", `/domains/${domid}`)).body.state, "----c-");
    assert.equal((await api("DELETE", `/domains/${domid}`)).status, 200);
    await assertNothingLeft("after preserve + destroy");

    for (const [reason, name] of [
      [0, "off"],
      [4, "dog"],
    ] as const) {
      const n = (await actions()).length;
      const d = await api("POST", "/domains", { config: cfg(name) });
      assert.equal(d.status, 201);
      assert.equal(await xc0.domainShutdown(d.body.domid, reason), 0);
      const a = await waitAction(n + 1);
      assert.deepEqual([a.action, a.outcome], ["destroy", "ok"]);
      await waitFor(async () => (await xc0.domainList()).domains.length === 1, { timeoutMs: 5000 });
      await assertNothingLeft(`after ${name}`);
    }
  });

  it("block attach and detach over HTTP; a shutdown nobody acts on is reported", async () => {
    const c = await api("POST", "/domains", { config: 'name = "hot"\nmemory = 8' });
    assert.equal(c.status, 201);
    const domid = c.body.domid as number;
    const a = await api("POST", `/domains/${domid}/disks`, {
      spec: "vdev=xvdb, access=ro, target=null:size=1G",
    });
    assert.equal(a.status, 201, JSON.stringify(a.body));
    assert.equal(a.body.devid, 51728);
    assert.equal(
      (await api("POST", `/domains/${domid}/disks`, { spec: "vdev=xvdb, target=null:size=1G" })).status,
      409,
    );
    const bad = await api("POST", `/domains/${domid}/disks`, {
      spec: "vdev=hda, access=rwx, target=null:size=1G",
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.messages.length, 2);
    const l = await api("GET", `/domains/${domid}/disks`);
    assert.deepEqual(
      l.body.disks.map((d: { vdev: string; backendState: string; mode: string }) => [
        d.vdev,
        d.backendState,
        d.mode,
      ]),
      [["xvdb", "InitWait", "r"]],
    );
    const noForce = await api("DELETE", `/domains/${domid}/disks/xvdb?force=0`);
    assert.equal(noForce.status, 504, "no frontend answers the closing handshake");
    assert.deepEqual((await api("GET", `/domains/${domid}/disks`)).body.disks.length, 1, "still there");
    const det = await api("DELETE", `/domains/${domid}/disks/xvdb`);
    assert.equal(det.status, 200, JSON.stringify(det.body));
    assert.equal(det.body.handshake, false);
    assert.deepEqual((await api("GET", `/domains/${domid}/disks`)).body.disks, []);
    assert.equal((await api("DELETE", `/domains/${domid}/disks/xvdb`)).status, 404);

    const noPv = await api("POST", `/domains/${domid}/shutdown`);
    assert.equal(noPv.status, 409);
    assert.match(noPv.body.error, /no PV control interface/);
    const sh = await api("POST", `/domains/${domid}/shutdown?force=1`);
    assert.deepEqual(sh.body, { acted: false, state: "running" });

    // the toolstack restarts: it knows the domain again and applies on_poweroff (destroy)
    await host.restartService("toolstack");
    await waitFor(
      async () => (await api("GET", `/domains/${domid}`).catch(() => undefined))?.status === 200,
      {
        timeoutMs: 10_000,
      },
    );
    assert.equal((await api("GET", `/domains/${domid}`)).body.uuid, c.body.uuid, "managed again");
    assert.equal(await xc0.domainShutdown(domid, 0), 0);
    await waitFor(async () => ((await api("GET", "/actions")).body.actions as unknown[]).length === 1, {
      timeoutMs: 10_000,
    });
    assert.equal((await api("GET", "/actions")).body.actions[0].action, "destroy");
    await assertNothingLeft("after hotplug");
  });
});
