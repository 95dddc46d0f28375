// Link principals: a worker's key is its service's under the host's secret; the verifier accepts
// exactly that service's signature of exactly that message.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  linkPrincipalKey,
  linkPrincipalVerifier,
  newLinkHostSecret,
  setThreadLinkPrincipal,
  signLinkRequest,
  threadLinkPrincipal,
} from "./link-principal.js";

test("a service's signature verifies as that service's only, under that host's secret only", () => {
  const secret = newLinkHostSecret();
  const other = newLinkHostSecret();
  assert.equal(secret.length, 32);
  assert.notDeepEqual(secret, other);
  const v = linkPrincipalVerifier(secret);
  const msg = new TextEncoder().encode("map dom 3 gfn 5");
  const dm = { service: "device-model", key: linkPrincipalKey(secret, "device-model") };
  const mac = signLinkRequest(dm, msg);
  assert.equal(v.verify("device-model", msg, mac), true);
  assert.equal(v.verify("toolstack", msg, mac), false, "another service's name");
  assert.equal(v.verify("device-model", new TextEncoder().encode("map dom 3 gfn 6"), mac), false);
  assert.equal(v.verify("device-model", msg, mac.subarray(0, 31)), false, "a short signature");
  assert.equal(v.verify("", msg, mac), false);
  const foreign = { service: "device-model", key: linkPrincipalKey(other, "device-model") };
  assert.equal(v.verify("device-model", msg, signLinkRequest(foreign, msg)), false, "another host's key");
  assert.notDeepEqual(linkPrincipalKey(secret, "blkback"), dm.key);
});

test("the thread's principal is what was set (per worker thread: module state)", () => {
  assert.equal(threadLinkPrincipal(), undefined);
  const p = { service: "blkback", key: new Uint8Array(32) };
  setThreadLinkPrincipal(p);
  assert.equal(threadLinkPrincipal(), p);
  setThreadLinkPrincipal(undefined);
  assert.equal(threadLinkPrincipal(), undefined);
});
