// Who may call the page-server: machine memory is dom0's business. The data plane itself runs on the
// link (docs/data-plane.md), not on calls; what is left on the call plane is debugging. The calls
// that read, write or allocate any frame of the host (ReadFrame, WriteFrames, AllocFrames) only the
// admin client; LinkStatus dom0's identities. A call without an identity came over a transport
// without credentials (the host's own thread, insecure gRPC).
import type { CallPolicy } from "@xensim/bus";
import { describeIdentity } from "@xensim/security";

const DEBUG = new Set(["ReadFrame", "WriteFrames", "AllocFrames"]);

export const pageServerPolicy: CallPolicy = (method, _req, ctx) => {
  const id = ctx.identity;
  if (id === undefined) return undefined;
  if (DEBUG.has(method))
    return id.kind === "client" && id.domid === 0
      ? undefined
      : `${method} reads or writes any frame of the host: admin client only, not ${describeIdentity(id)}`;
  if (id.domid === 0) return undefined;
  return `${describeIdentity(id)} may not call ${method} (machine memory is dom0's)`;
};
