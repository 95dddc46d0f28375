// Who may drive the guest runtime (Boot, Halt, List): the toolstack — libxl starting and stopping
// domains — and the admin client. A call without an identity came over a transport without
// credentials (the host's own thread, insecure gRPC).
import type { CallPolicy } from "@xensim/bus";
import { describeIdentity } from "@xensim/security";

export const guestRuntimePolicy: CallPolicy = (method, _req, ctx) => {
  const id = ctx.identity;
  if (id === undefined) return undefined;
  if (id.kind === "service" && id.name === "toolstack" && id.domid === 0) return undefined;
  if (id.kind === "client" && id.domid === 0) return undefined;
  return `${describeIdentity(id)} may not call ${method}: the guest runtime takes orders from the toolstack`;
};
