// Foreign-map permission per service (map-policy.ts): the mapper's host verifies which of its
// workers asks (their signatures under the host's secret) and vouches for the service; the
// hypervisor's host decides as XSM would — a backend maps grants only, a device model the RAM of the
// guest whose ioreq server it holds, the toolstack anything. Refusals are privcmd's -EPERM, counted
// where they are decided, and leave no page reference behind.
import assert from "node:assert/strict";
import { createHmac, timingSafeEqual } from "node:crypto";
import { test } from "node:test";
import {
  HVM_IOREQSRV_BUFIOREQ_ATOMIC,
  XENMEM_resource_grant_table,
  XENMEM_resource_ioreq_server,
  XenErrno,
} from "@xensim/abi";
import { EventChannels } from "@xensim/evtchn";
import { IoreqServers } from "@xensim/ioreq";
import { testSeed } from "@xensim/testkit";
import { foreignMapRight, foreignMapRole } from "./map-policy.js";
import {
  decodeForeignMapReply,
  decodeForeignMapRequest,
  decodeRc,
  encodeForeignMapRequest,
  type ForeignMapRequest,
  foreignMapSigned,
  OP_FOREIGN_MAP,
  OP_FOREIGN_UNMAP,
} from "./requests.js";
import { type TwoHosts, twoHosts } from "./testing/rig.js";

const seed = testSeed();
console.log(`map policy tests: seed ${seed} (XENSIM_SEED=${seed} to replay)`);

const EPERM = -XenErrno.EPERM;
const hostSecret = createHmac("sha256", "test").update(String(seed)).digest();
const keyOf = (service: string) => createHmac("sha256", hostSecret).update(service).digest();
const sign = (key: Buffer, msg: Uint8Array) => new Uint8Array(createHmac("sha256", key).update(msg).digest());
const verifier = {
  verify: (service: string, message: Uint8Array, mac: Uint8Array) =>
    mac.length === 32 && timingSafeEqual(sign(keyOf(service), message), mac),
};

/** Host B under a verifier (as the runtime's page-server runs it), linked to the hypervisor's host. */
function rig(): TwoHosts {
  const t = twoHosts(seed);
  t.net.disconnect("hostB", "hostH");
  t.B.engine.close();
  t.B.start({ principals: verifier }, true);
  t.B.engine.setHypervisorHost("hostH");
  assert.ok(t.net.run(5000, () => t.H.engine.stats.epochChanges > 0));
  return t;
}

type Ask = Omit<ForeignMapRequest, "watermarks" | "principal">;

/** A foreign map from B's worker of `service` (signed with `key`, default its own; null: unsigned). */
function map(t: TwoHosts, service: string, ask: Ask, key: Buffer | null = keyOf(service), caller = 0) {
  const q: ForeignMapRequest = { ...ask, watermarks: [] };
  const principal = key ? { service, mac: sign(key, foreignMapSigned(caller, service, q)) } : undefined;
  const r = decodeForeignMapReply(
    t.back.request(OP_FOREIGN_MAP, caller, encodeForeignMapRequest(principal ? { ...q, principal } : q)),
  );
  return r;
}
const unmap = (t: TwoHosts, handle: number) =>
  decodeRc(t.back.request(OP_FOREIGN_UNMAP, 0, new Uint8Array(new Uint32Array([handle]).buffer)));

test("the roles: control maps anything, a device model its emulated guest, a backend grants only", () => {
  assert.equal(foreignMapRole("toolstack"), "control");
  assert.equal(foreignMapRole("xenstored"), "control");
  assert.equal(foreignMapRole("hypervisor"), "control");
  assert.equal(foreignMapRole("device-model"), "device-model");
  assert.equal(foreignMapRole("device-model-2"), "device-model");
  assert.equal(foreignMapRole("blkback"), "grants");
  assert.equal(foreignMapRole("displback"), "grants");
  assert.equal(foreignMapRole("guest"), "grants");
  assert.equal(foreignMapRole("toolstack-x"), "grants", "a look-alike name is nobody's");
  const ram: ForeignMapRequest = { dom: 3, readonly: false, gfns: [1], watermarks: [] };
  const gt = (readonly: boolean): ForeignMapRequest => ({
    ...ram,
    gfns: [],
    readonly,
    resource: { type: XENMEM_resource_grant_table, id: 0, frame: 0, nrFrames: 1 },
  });
  const ioreq: ForeignMapRequest = {
    ...ram,
    gfns: [],
    resource: { type: XENMEM_resource_ioreq_server, id: 0, frame: 0, nrFrames: 2 },
  };
  const owns = (d: number) => d === 3;
  const none = () => false;
  for (const [role, q, own, rc] of [
    ["control", ram, none, 0],
    ["control", gt(false), none, 0],
    ["device-model", ram, owns, 0],
    ["device-model", ram, none, EPERM],
    ["device-model", { ...ram, dom: 4 }, owns, EPERM],
    ["device-model", ioreq, none, 0],
    ["device-model", gt(true), none, 0],
    ["device-model", gt(false), none, EPERM],
    ["grants", gt(true), none, 0],
    ["grants", gt(false), none, EPERM],
    ["grants", ram, owns, EPERM],
    ["grants", ioreq, owns, EPERM],
  ] as const)
    assert.equal(foreignMapRight(role, q, own), rc, `${role} ${JSON.stringify(q)}`);
});

test("a principal round-trips the codec; what it signs names the caller, the service and the request", () => {
  const q: ForeignMapRequest = {
    dom: 7,
    readonly: true,
    gfns: [1, 2],
    watermarks: [{ writer: "h", seq: 9 }],
  };
  const principal = { service: "device-model", mac: new Uint8Array(32).fill(5) };
  assert.deepEqual(decodeForeignMapRequest(encodeForeignMapRequest({ ...q, principal })), {
    ...q,
    principal,
  });
  assert.deepEqual(decodeForeignMapRequest(encodeForeignMapRequest(q)), q);
  const m = foreignMapSigned(0, "blkback", q);
  assert.deepEqual(
    foreignMapSigned(0, "blkback", { ...q, watermarks: [], principal }),
    m,
    "watermarks are not signed",
  );
  assert.notDeepEqual(foreignMapSigned(1, "blkback", q), m);
  assert.notDeepEqual(foreignMapSigned(0, "blkbacK", q), m);
  assert.notDeepEqual(foreignMapSigned(0, "blkback", { ...q, dom: 8 }), m);
  assert.notDeepEqual(foreignMapSigned(0, "blkback", { ...q, readonly: false }), m);
});

test("across two hosts: blkback may not map guest RAM, unsigned and forged requests are refused at home", () => {
  const t = rig();
  const frame = t.hv.gfnToFrame(0, t.domU, [4]).frames[0]!;
  const hExecuted = () => t.H.engine.stats.requestsExecuted;
  // blkback (grants only): guest RAM and a writable grant table refused by the hypervisor's host.
  assert.equal(map(t, "blkback", { dom: t.domU, readonly: false, gfns: [4] }).rc, EPERM);
  assert.equal(map(t, "blkback", { dom: t.domU, readonly: true, gfns: [4] }).rc, EPERM, "read-only too");
  const nrFrames = t.hv.gt.grantFrames(t.domU).length;
  const gtRes = { type: XENMEM_resource_grant_table, id: 0, frame: 0, nrFrames };
  assert.equal(map(t, "blkback", { dom: t.domU, readonly: false, gfns: [], resource: gtRes }).rc, EPERM);
  assert.equal(t.H.engine.stats.foreignMapsRefused, 3, "counted where decided");
  assert.equal(t.H.thread().frameRefs(frame), 0, "no reference left by a refusal");
  // …its read-only replica of the grant table (local grant checks) is fine.
  const g = map(t, "blkback", { dom: t.domU, readonly: true, gfns: [], resource: gtRes });
  assert.equal(g.rc, 0);
  assert.equal(unmap(t, g.handle), 0);

  // Refused at B before anything goes on the link: no signature, another service's key, a
  // signature of another request (the signed bytes name the domain and gfns).
  const before = hExecuted();
  assert.equal(map(t, "toolstack", { dom: t.domU, readonly: false, gfns: [4] }, null).rc, EPERM);
  assert.equal(map(t, "toolstack", { dom: t.domU, readonly: false, gfns: [4] }, keyOf("blkback")).rc, EPERM);
  const q: ForeignMapRequest = { dom: t.domU, readonly: false, gfns: [5], watermarks: [] };
  const stolen = { service: "toolstack", mac: sign(keyOf("toolstack"), foreignMapSigned(0, "toolstack", q)) };
  const replayed = { ...q, gfns: [4], principal: stolen };
  assert.equal(
    decodeForeignMapReply(t.back.request(OP_FOREIGN_MAP, 0, encodeForeignMapRequest(replayed))).rc,
    EPERM,
  );
  assert.equal(t.B.engine.stats.foreignMapsRefused, 3, "counted at the mapper's host");
  assert.equal(hExecuted(), before, "none reached the hypervisor's host");

  // Unsigned, a read-only grant table only (as nobody's: the grants role).
  const anon = map(t, "", { dom: t.domU, readonly: true, gfns: [], resource: gtRes }, null);
  assert.equal(anon.rc, 0, "an unsigned read-only grant table");
  assert.equal(unmap(t, anon.handle), 0);
  assert.equal(map(t, "", { dom: t.domU, readonly: false, gfns: [], resource: gtRes }, null).rc, EPERM);
  assert.equal(t.B.engine.stats.foreignMapsRefused, 4);

  // The toolstack (control) maps the guest's RAM.
  const ok = map(t, "toolstack", { dom: t.domU, readonly: false, gfns: [4] });
  assert.equal(ok.rc, 0);
  assert.equal(t.H.thread().frameRefs(frame), 1);
  assert.equal(unmap(t, ok.handle), 0);
  assert.equal(t.H.thread().frameRefs(frame), 0);
});

test("across two hosts: a device model maps the RAM of the guest whose ioreq server it holds, no other", () => {
  const t = rig();
  const hstore = t.H.thread();
  const servers = new IoreqServers(hstore, new EventChannels(hstore));
  const s = servers.create(0, t.domU, HVM_IOREQSRV_BUFIOREQ_ATOMIC, 1);
  assert.equal(s.rc, 0);
  const ram = { dom: t.domU, readonly: false, gfns: [4] };
  assert.equal(map(t, "device-model", ram).rc, EPERM, "not (yet) its guest's emulator");
  const resource = { type: XENMEM_resource_ioreq_server, id: s.id, frame: 0, nrFrames: 2 };
  assert.equal(
    map(t, "blkback", { ...ram, gfns: [], resource }).rc,
    EPERM,
    "ioreq pages: the emulator's only",
  );
  const io = map(t, "device-model", { ...ram, gfns: [], resource });
  assert.equal(io.rc, 0);
  const m = map(t, "device-model", ram);
  assert.equal(m.rc, 0, "its guest's RAM");
  assert.equal(map(t, "device-model-2", ram).rc, EPERM, "another emulator instance of the same host");
  assert.equal(map(t, "blkback", ram).rc, EPERM);
  assert.equal(unmap(t, m.handle), 0);
  assert.equal(unmap(t, io.handle), 0);
  assert.equal(map(t, "device-model", ram).rc, EPERM, "its ioreq pages released: no longer");
  assert.equal(t.H.engine.stats.foreignMapsRefused, 5);
  assert.equal(t.H.engine.foreignMapCount, 0, "nothing left mapped");
});
