// The isolation matrix (issue 14): a host with credentials (`keys init`: gRPC mutual TLS, NATS nkeys
// with per-service permissions, the API token), and three kinds of intruder — a client with no
// credentials, a service using its credentials for what is another's, and an unprivileged domain —
// each trying every call, subject and node that is not theirs. Every attempt must be refused, and
// counted: the runtime's xensim_calls_refused_total (unauthenticated / denied), the toolstack's
// toolstack_api_refused_total, the hypervisor's hypervisor_calls_total{result="error"} and
// xenstored's xenstore_errors_total{errno="EACCES"} for Xen's own refusals, and nats-server's
// permission errors as the intruder's connection reports them. A forged domain death on NATS must
// leave the domain and its xenstore nodes alone.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  BusError,
  type CallClient,
  CallError,
  connectNatsBus,
  createGrpcCallClient,
  type EventBus,
  GrpcStatus,
} from "@xensim/bus";
import { loadGuestProto, loadHypervisorProto, loadPageServerProto, loadXenstoreProto } from "@xensim/proto";
import { type HostHandle, startHost } from "@xensim/runtime";
import { type Credentials, inboxPrefix, initKeys, loadApiToken, loadCredentials } from "@xensim/security";
import {
  findNatsServer,
  freePort,
  type NatsServer,
  startNatsServer,
  tempDir,
  waitFor,
} from "@xensim/testkit";
import { connectXenstore, type XenstoreClient, XenstoreError } from "@xensim/xenstore-client";
import { serviceEntryPath } from "./harness.js";

const HV = loadHypervisorProto().xensim.hypervisor.v1.Hypervisor.service;
const PS = loadPageServerProto().xensim.pageserver.v1.PageServer.service;
const XS = loadXenstoreProto().xensim.xenstore.v1.Xenstore.service;
const GUEST = loadGuestProto().xensim.guest.v1.Guest.service;
const GNTMAP_host_map = 2;

type Who = Credentials | "no-certificate" | { foreign: Credentials; ca: string };

describe(
  "isolation matrix: every call, subject and node that is not the caller's is refused and counted",
  {
    timeout: 180_000,
    skip: findNatsServer() === undefined ? "nats-server not installed (CI installs it)" : false,
  },
  () => {
    const dir = tempDir("xensim-isolation-");
    const keys = join(dir.path, "keys");
    let nats: NatsServer;
    let host: HostHandle;
    let api: string;
    let token: string;
    let ca: string;
    const addr: Record<string, string> = {};
    const closers: Array<() => unknown> = [];
    const cred = (service: string) => loadCredentials(keys, { host: "hostA", service });
    let admin: Credentials;
    /** domUs: a, b (homed here), far (homed on hostB) */
    const dom: Record<"a" | "b" | "far", number> = { a: -1, b: -1, far: -1 };
    let uuidB = "";

    const grpc = (def: Parameters<typeof createGrpcCallClient>[0], target: string, who: Who): CallClient => {
      const tls =
        who === "no-certificate"
          ? { ca }
          : "foreign" in who
            ? { ca: who.ca, cert: who.foreign.tls.cert, key: who.foreign.tls.key }
            : { ca: who.ca, cert: who.tls.cert, key: who.tls.key };
      const c = createGrpcCallClient(def, target, { tls });
      closers.push(() => c.close());
      return c;
    };
    const natsAs = async (c: Credentials): Promise<{ bus: EventBus; refused: string[] }> => {
      const refused: string[] = [];
      const bus = await connectNatsBus({
        servers: nats.url,
        name: `intruder-${c.identity.name}`,
        nkeySeed: c.natsSeed,
        inboxPrefix: inboxPrefix(c.identity),
        onError: (err) => {
          if (err instanceof BusError && /NATS refused/.test(err.message)) refused.push(err.message);
        },
      });
      closers.push(() => bus.close());
      return { bus, refused };
    };
    const metric = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
      let sum = 0;
      for (const line of (await host.metrics()).body.split("\n")) {
        if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
        if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
        sum += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
      return sum;
    };
    const code = (e: unknown) => (e instanceof CallError ? e.code : undefined);

    before(async () => {
      await initKeys(keys, {
        hosts: { hostA: ["hypervisor", "xenstored", "page-server", "guest", "toolstack", "blkback"] },
      });
      nats = await startNatsServer({ args: ["-c", join(keys, "nats-server.conf")] });
      const port = await freePort();
      api = `http://127.0.0.1:${port}`;
      host = await startHost({
        hostId: "hostA",
        nats: nats.url,
        keysDir: keys,
        services: [
          { name: "hypervisor", entry: serviceEntryPath("hypervisor"), config: {} },
          { name: "xenstored", entry: serviceEntryPath("xenstored"), config: {} },
          { name: "page-server", entry: serviceEntryPath("page-server"), config: {} },
          { name: "guest", entry: serviceEntryPath("guest"), config: { stateDir: join(dir.path, "guest") } },
          {
            name: "toolstack",
            entry: serviceEntryPath("toolstack"),
            config: {
              hostMemoryMib: 256,
              api: { host: "127.0.0.1", port, tokenFile: join(keys, "api-token") },
            },
          },
        ],
        sharedMemoryBytes: 256 << 20,
        logLevel: "error",
      });
      await host.ready;
      for (const s of ["hypervisor", "xenstored", "page-server", "guest"])
        addr[s] = host.services.get(s)?.grpcAddress as string;
      token = loadApiToken(keys);
      admin = loadCredentials(keys, { client: "admin" });
      ca = admin.ca;
      // two domUs homed here (the toolstack, no guest kernel), one homed on another host (admin)
      for (const name of ["a", "b"] as const) {
        const r = await fetch(`${api}/domains`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify({ config: `name = "iso-${name}"\nmemory = 16` }),
        });
        const body = (await r.json()) as { domid: number; uuid: string };
        assert.equal(r.status, 201, JSON.stringify(body));
        dom[name] = body.domid;
        if (name === "b") uuidB = body.uuid;
      }
      const hvAdmin = grpc(HV, addr.hypervisor as string, admin);
      const far = await hvAdmin.call<object, { rc: number; domid: number }>("DomainCreate", {
        caller: 0,
        memoryMib: 8,
        vcpus: 1,
        homeHost: "hostB",
      });
      assert.equal(far.rc, 0);
      dom.far = far.domid;
    });
    after(async () => {
      for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => {});
      await host?.stop();
      await nats?.stop();
      dir.cleanup();
    });

    it("a client with no credentials: every gRPC method of every service, NATS, every API route", async () => {
      const other = join(dir.path, "other-ca");
      await initKeys(other, { hosts: { hostA: ["blkback"] } });
      const foreign = { foreign: loadCredentials(other, { host: "hostA", service: "blkback" }), ca };
      const before = await metric("xensim_calls_refused_total", { reason: "unauthenticated" });
      let attempts = 0;
      for (const [def, target] of [
        [HV, addr.hypervisor],
        [PS, addr["page-server"]],
        [XS, addr.xenstored],
        [GUEST, addr.guest],
      ] as const)
        for (const who of ["no-certificate", foreign] as const) {
          const c = grpc(def, target as string, who);
          for (const method of Object.keys(def)) {
            await assert.rejects(
              c.call(method, {}),
              (e: unknown) => code(e) === GrpcStatus.UNAUTHENTICATED,
              method,
            );
            attempts++;
          }
        }
      assert.ok(attempts >= 2 * (30 + 4 + 4 + 3), `${attempts} attempts`);
      await waitFor(
        async () =>
          (await metric("xensim_calls_refused_total", { reason: "unauthenticated" })) - before === attempts,
        {
          timeoutMs: 5000,
          message: `${attempts} unauthenticated refusals counted`,
        },
      );
      // plaintext gRPC never gets a call through a TLS listener
      const plain = createGrpcCallClient(HV, addr.hypervisor as string);
      closers.push(() => plain.close());
      await assert.rejects(plain.call("DomainList", { caller: 0 }, { deadlineMs: 3000 }), CallError);
      // NATS: no connection at all
      await assert.rejects(
        connectNatsBus({ servers: nats.url, maxReconnectAttempts: 0 }),
        /Authorization Violation/i,
      );
      // the API: 401 on every route, counted
      const apiBefore = await metric("toolstack_api_refused_total");
      const routes: Array<[string, string]> = [
        ["GET", "/openapi.json"],
        ["GET", "/domains"],
        ["POST", "/domains"],
        ["GET", `/domains/${dom.a}`],
        ["DELETE", `/domains/${dom.a}`],
        ["POST", `/domains/${dom.a}/pause`],
        ["POST", `/domains/${dom.a}/unpause`],
        ["POST", `/domains/${dom.a}/shutdown`],
        ["POST", `/domains/${dom.a}/reboot`],
        ["GET", `/domains/${dom.a}/disks`],
        ["POST", `/domains/${dom.a}/disks`],
        ["DELETE", `/domains/${dom.a}/disks/xvda`],
        ["GET", "/actions"],
        ["GET", "/no-such-route"],
      ];
      for (const [method, path] of routes)
        for (const headers of [
          {} as Record<string, string>,
          { authorization: "Bearer not-the-token" },
          { cookie: "xensim-api-token=nope" },
        ]) {
          const r = await fetch(`${api}${path}`, { method, headers });
          assert.equal(r.status, 401, `${method} ${path}`);
          assert.match(r.headers.get("www-authenticate") ?? "", /^Bearer/);
        }
      assert.equal((await metric("toolstack_api_refused_total")) - apiBefore, routes.length * 3);
      // and the domain the refused DELETE named is still there
      const list = await fetch(`${api}/domains`, { headers: { authorization: `Bearer ${token}` } });
      assert.ok(
        ((await list.json()) as { domains: Array<{ id: number }> }).domains.some((d) => d.id === dom.a),
      );
    });

    it("a service with its own credentials doing another's work: blkback as a domU, reading memory, driving guests, forging events", async () => {
      const blkback = cred("blkback");
      const before = await metric("xensim_calls_refused_total", { reason: "denied" });
      let attempts = 0;
      // dom0's blkback claiming to be domU a in every hypercall
      const hv = grpc(HV, addr.hypervisor as string, blkback);
      for (const method of Object.keys(HV)) {
        await assert.rejects(
          hv.call(method, { caller: dom.a, domid: dom.b, dom: dom.b, ops: [] }),
          (e: unknown) => code(e) === GrpcStatus.PERMISSION_DENIED,
          method,
        );
        attempts++;
      }
      // machine memory: the page-server's debugging calls
      const ps = grpc(PS, addr["page-server"] as string, blkback);
      for (const [method, req] of [
        ["ReadFrame", { frame: 1 }],
        ["WriteFrames", { writes: [] }],
        ["AllocFrames", { count: 1 }],
      ] as const) {
        await assert.rejects(
          ps.call(method, req),
          (e: unknown) => code(e) === GrpcStatus.PERMISSION_DENIED,
          method,
        );
        attempts++;
      }
      // the guest runtime takes orders from the toolstack only
      const g = grpc(GUEST, addr.guest as string, blkback);
      for (const [method, req] of [
        ["Boot", { domid: dom.a, name: "iso-a" }],
        ["Halt", { domid: dom.a }],
        ["List", {}],
      ] as const) {
        await assert.rejects(
          g.call(method, req),
          (e: unknown) => code(e) === GrpcStatus.PERMISSION_DENIED,
          method,
        );
        attempts++;
      }
      // someone else's xenstore session (the admin's): as if it did not exist
      const xsAdmin = grpc(XS, addr.xenstored as string, admin);
      const s = await xsAdmin.call<object, { sessionId: string }>("OpenSession", {
        domid: 0,
        clientName: "admin",
      });
      const xs = grpc(XS, addr.xenstored as string, blkback);
      for (const [method, req] of [
        ["Request", { sessionId: s.sessionId, type: 2, reqId: 1, txId: 0, payload: Buffer.from("/local\0") }],
        ["KeepAlive", { sessionId: s.sessionId }],
        ["CloseSession", { sessionId: s.sessionId }],
      ] as const) {
        await assert.rejects(
          xs.call(method, req),
          (e: unknown) => code(e) === GrpcStatus.PERMISSION_DENIED,
          method,
        );
        attempts++;
      }
      await xsAdmin.call("KeepAlive", { sessionId: s.sessionId }); // still the admin's, alive
      // the guest runtime's credentials acting as dom0, or for a domain homed on another host
      const guestHv = grpc(HV, addr.hypervisor as string, cred("guest"));
      for (const caller of [0, dom.far]) {
        for (const method of ["DomainList", "DomainDestroy", "EvtchnAllocUnbound", "GnttabMapGrantRef"]) {
          await assert.rejects(
            guestHv.call(method, { caller, domid: dom.b, dom: dom.b, ops: [] }),
            (e: unknown) => code(e) === GrpcStatus.PERMISSION_DENIED,
            `${method} as ${caller}`,
          );
          attempts++;
        }
      }
      await waitFor(
        async () => (await metric("xensim_calls_refused_total", { reason: "denied" })) - before === attempts,
        {
          timeoutMs: 5000,
          message: `${attempts} denied calls counted`,
        },
      );

      // NATS: blkback forging the hypervisor's, the guest runtime's and the admin's subjects, snooping
      const { bus, refused } = await natsAs(blkback);
      const dec = new TextEncoder();
      const forged = [
        `hypervisor.domain.${dom.a}.exc`,
        `guest.${dom.a}.status`,
        "xensim.fault.set.all",
        "xensim.fault.set.xenstored",
        "xensim.link.faults.hostA",
        "link.hostA.address",
        "xenstore.watch.hostA:toolstack.x",
      ];
      for (const subject of forged)
        bus.publish(
          subject,
          dec.encode(JSON.stringify({ domid: dom.a, state: "dead", reason: -1, rules: null })),
        );
      const snoops = [">", "_INBOX.>", "link.>", "xenstore.watch.>", "guest.*.status", "xensim.fault.>"];
      for (const subject of snoops)
        bus.subscribe(subject, { callback: () => assert.fail(`${subject} delivered`) });
      await bus.flush().catch(() => {});
      await waitFor(() => refused.length >= forged.length + snoops.length, {
        timeoutMs: 5000,
        message: `${forged.length + snoops.length} NATS refusals (got ${refused.length}: ${refused.join("; ")})`,
      });
      for (const subject of [...forged, ...snoops])
        assert.ok(
          refused.some((r) => r.includes(`"${subject}"`)),
          `${subject} refused: ${refused.join("; ")}`,
        );
      // the forged death changed nothing: domain a lives, its xenstore home is there
      const info = await grpc(HV, addr.hypervisor as string, admin).call<
        object,
        { rc: number; info?: { state: string } }
      >("DomainInfo", { caller: 0, domid: dom.a });
      assert.equal(info.rc, 0);
      assert.notEqual(info.info?.state, "DOMAIN_STATE_DEAD");
      const x = await adminXenstore(0);
      assert.equal(await x.read(`/local/domain/${dom.a}/name`), "iso-a");
    });

    async function adminXenstore(domid: number): Promise<XenstoreClient> {
      const calls = grpc(XS, addr.xenstored as string, admin);
      const bus = await connectNatsBus({
        servers: nats.url,
        name: `admin-xs-${domid}`,
        nkeySeed: admin.natsSeed,
        inboxPrefix: inboxPrefix(admin.identity),
      });
      closers.push(() => bus.close());
      const c = await connectXenstore({ calls, bus, domid, clientName: `isolation-${domid}` });
      closers.push(() => c.close());
      return c;
    }

    it("an unprivileged domain: every privileged hypercall, another domain's grants, xenstore nodes and subjects", async () => {
      // hypercalls of domU a through the guest runtime's credentials (a is homed here: allowed to act)
      const hv = grpc(HV, addr.hypervisor as string, cred("guest"));
      const errorsBefore = await metric("hypervisor_calls_total", { result: "error" });
      const a = dom.a;
      const b = dom.b;
      const attemptsRc: Array<[string, object]> = [
        ["DomainCreate", { caller: a, memoryMib: 4, vcpus: 1 }],
        ["DomainPause", { caller: a, domid: b }],
        ["DomainUnpause", { caller: a, domid: b }],
        ["DomainShutdown", { caller: a, domid: b, reason: 0 }],
        ["DomainDestroy", { caller: a, domid: b }],
        ["DomainSoftReset", { caller: a, domid: b }],
        ["DomainResume", { caller: a, domid: b }],
        ["DomainList", { caller: a }],
        ["DomainInfo", { caller: a, domid: b }],
        ["HvmParamGet", { caller: a, domid: b, index: 1 }],
        ["HvmParamSet", { caller: a, domid: b, index: 1, value: "0" }],
        ["EvtchnAllocUnbound", { caller: a, dom: b, remoteDom: a }],
        ["EvtchnStatus", { caller: a, dom: b, port: 1 }],
        ["EvtchnReset", { caller: a, domid: b }],
        ["MemoryPopulatePhysmap", { caller: a, domid: b, gfn: "4096", count: 1 }],
        ["MemoryGfnToFrame", { caller: a, domid: b, gfns: ["0"] }],
      ];
      for (const [method, req] of attemptsRc) {
        const r = await hv.call<object, { rc: number }>(method, req);
        assert.ok(r.rc < 0, `${method}: rc ${r.rc}`);
      }
      const st = await hv.call<object, { status: number }>("GnttabSetupTable", {
        caller: a,
        dom: b,
        nrFrames: 1,
      });
      assert.ok(st.status < 0, `GnttabSetupTable: ${st.status}`);
      const q = await hv.call<object, { status: number }>("GnttabQuerySize", { caller: a, domid: b });
      assert.ok(q.status < 0, `GnttabQuerySize: ${q.status}`);
      // b's grant refs, none granted to a: every map fails with a GNTST_* status
      const maps = await hv.call<object, { results: Array<{ status: number }> }>("GnttabMapGrantRef", {
        caller: a,
        ops: [0, 1, 8, 9, 100].map((ref) => ({ dom: b, ref, flags: GNTMAP_host_map, hostAddr: "0" })),
      });
      assert.ok(
        maps.results.every((m) => m.status < 0),
        JSON.stringify(maps.results),
      );
      const expected = attemptsRc.length + 2 + 5;
      await waitFor(
        async () => (await metric("hypervisor_calls_total", { result: "error" })) - errorsBefore >= expected,
        {
          timeoutMs: 5000,
          message: `${expected} hypercalls refused by Xen's checks, counted`,
        },
      );
      // b is untouched
      const info = await grpc(HV, addr.hypervisor as string, admin).call<
        object,
        { rc: number; info?: { state: string } }
      >("DomainInfo", { caller: 0, domid: b });
      assert.equal(info.info?.state, "DOMAIN_STATE_RUNNING");

      // xenstore as domU a: another domain's home, dom0's, the toolstack's, privileged operations
      const xs = await adminXenstore(a);
      const eaccesBefore = await metric("xenstore_errors_total", { errno: "EACCES" });
      const nodes = [
        `/local/domain/${b}/name`,
        `/local/domain/${b}/control/shutdown`,
        `/vm/${uuidB}/uuid`,
        `/libxl/${b}/type`,
        "/local/domain/0/backend",
      ];
      const tries: Array<[string, () => Promise<unknown>]> = [];
      for (const n of nodes) {
        tries.push([`read ${n}`, () => xs.read(n)]);
        tries.push([`write ${n}`, () => xs.write(n, "owned")]);
        tries.push([`rm ${n}`, () => xs.rm(n)]);
        tries.push([`getperms ${n}`, () => xs.getPerms(n)]);
        tries.push([`setperms ${n}`, () => xs.setPerms(n, [`n${a}`])]);
      }
      tries.push(["mkdir under b", () => xs.mkdir(`/local/domain/${b}/device/vbd/999`)]);
      tries.push(["introduce", () => xs.introduceDomain(b, 0xfe, 1)]);
      tries.push(["release", () => xs.releaseDomain(b)]);
      for (const [what, f] of tries)
        await assert.rejects(f(), (e: unknown) => e instanceof XenstoreError && e.code === "EACCES", what);
      await waitFor(
        async () =>
          (await metric("xenstore_errors_total", { errno: "EACCES" })) - eaccesBefore >= tries.length,
        {
          timeoutMs: 5000,
          message: `${tries.length} EACCES counted`,
        },
      );
      const x0 = await adminXenstore(0);
      assert.equal(await x0.read(`/local/domain/${b}/name`), "iso-b", "b's nodes unchanged");

      // NATS with the guest runtime's credentials (what a guest can reach): no forging, no snooping
      const { bus, refused } = await natsAs(cred("guest"));
      const forged = [
        `hypervisor.domain.${b}.exc`,
        "xensim.fault.set.hypervisor",
        "xenstore.watch.hostA:toolstack.1",
        "xensim.link.faults.hostA",
      ];
      for (const subject of forged) bus.publish(subject, new TextEncoder().encode("{}"));
      const snoops = [">", "xenstore.watch.>", "link.>", "_INBOX.hostA:toolstack.>"];
      for (const subject of snoops)
        bus.subscribe(subject, { callback: () => assert.fail(`${subject} delivered`) });
      await bus.flush().catch(() => {});
      await waitFor(() => refused.length >= forged.length + snoops.length, {
        timeoutMs: 5000,
        message: `NATS refusals (got ${refused.join("; ")})`,
      });
    });
  },
);
