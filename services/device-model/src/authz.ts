// Who may call the device model (issue 14): it takes orders from the toolstack (libxl spawning and
// stopping QEMU, QMP's save, xl console) and the admin client only. Another dom0 service has no
// business starting emulators, writing saved state to a path of its choosing or typing into a
// guest's console; a guest (the guest runtime's identity) none at all. A call without an identity
// came over a transport without credentials (the host's own thread).
import type { CallPolicy } from "@xensim/bus";
import { describeIdentity } from "@xensim/security";

export const deviceModelPolicy: CallPolicy = (method, _req, ctx) => {
  const id = ctx.identity;
  if (id === undefined) return undefined;
  if (id.kind === "service" && id.name === "toolstack" && id.domid === 0) return undefined;
  if (id.kind === "client" && id.domid === 0) return undefined;
  return `${describeIdentity(id)} may not call ${method}: the device model takes orders from the toolstack`;
};
