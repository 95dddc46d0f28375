// Who may call the device model: the toolstack and the admin client (and the host's own thread).
import assert from "node:assert/strict";
import { test } from "node:test";
import type { CallContext } from "@xensim/bus";
import { clientIdentity, type Identity, serviceIdentity } from "@xensim/security";
import { deviceModelPolicy } from "./authz.js";

const ctx = (identity?: Identity): CallContext => ({
  metadata: {},
  peer: "test",
  method: "/xensim.devicemodel.v1.DeviceModel/Start",
  ...(identity ? { identity } : {}),
});

test("the device model takes orders from the toolstack and the admin client only", () => {
  for (const ok of [undefined, serviceIdentity("h", "toolstack"), { ...clientIdentity("admin"), domid: 0 }])
    assert.equal(deviceModelPolicy("Start", {}, ctx(ok)), undefined, JSON.stringify(ok));
  for (const no of [
    serviceIdentity("h", "blkback"),
    serviceIdentity("h", "device-model-2"),
    serviceIdentity("h", "guest"),
    serviceIdentity("h", "toolstack", 5), // a driver domain's toolstack is not dom0's
    clientIdentity("viewer"),
  ])
    for (const method of ["Start", "Stop", "SaveState", "ConsoleRead", "ConsoleWrite", "List"])
      assert.match(deviceModelPolicy(method, {}, ctx(no)) ?? "", /takes orders from the toolstack/);
});
