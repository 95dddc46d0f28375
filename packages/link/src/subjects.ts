// Subjects of the link's control plane on NATS (the link itself is a framed stream; these only
// find a peer and switch its fault hooks).
export const LINK_SUBJECTS = Object.freeze({
  /** Request → reply {tcp, unix, epoch}: where host `hostId`'s link listens. */
  address: (hostId: string): string => `link.${hostId}.address`,
  /** Request {rules | null} → {ok}: switch the link fault hooks of host `hostId`'s page-server. */
  faults: (hostId: string): string => `xensim.link.faults.${hostId}`,
  /** Request → {seed, peers: {host: {counts}}}: the faults injected so far. */
  faultRecords: (hostId: string): string => `xensim.link.faultrecords.${hostId}`,
});
