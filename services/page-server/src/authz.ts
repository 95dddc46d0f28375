// Who may call the page-server: machine memory is dom0's business. dom0's services (and the admin
// client) may replicate, import, publish and fence; the debugging calls that read, write or allocate
// any frame of the host (ReadFrame, WriteFrames, AllocFrames) only the admin client; the guest
// runtime only publishes what its guests wrote and waits for fences. A call without an identity came
// over a transport without credentials (the host's own thread, insecure gRPC).
import type { CallPolicy } from "@xensim/bus";
import { describeIdentity } from "@xensim/security";

const DEBUG = new Set(["ReadFrame", "WriteFrames", "AllocFrames"]);
const GUEST = new Set(["Publish", "Fence"]);

export const pageServerPolicy: CallPolicy = (method, _req, ctx) => {
  const id = ctx.identity;
  if (id === undefined) return undefined;
  if (DEBUG.has(method))
    return id.kind === "client" && id.domid === 0
      ? undefined
      : `${method} reads or writes any frame of the host: admin client only, not ${describeIdentity(id)}`;
  if (id.domid === 0) return undefined;
  if (id.kind === "service" && id.name === "guest" && GUEST.has(method)) return undefined;
  return `${describeIdentity(id)} may not call ${method} (machine memory is dom0's)`;
};
