// Authenticating the data-plane link between two host processes (docs/data-plane.md: one framed
// stream per pair, HELLO with host id and epoch): the socket runs mutual TLS with the page-servers'
// certificates (the link thread is the page-server's), and the host id a peer announces in its
// HELLO must be the host its certificate names. A HELLO without a verified certificate, or claiming
// another host, is refused before any frame is applied.
import type { PeerCertificate, SecureContextOptions, TLSSocket } from "node:tls";
import { describeIdentity, type Identity, identityFromSubjectAltName } from "./identity.js";

/** TLS options for either end of a link: our certificate, the deployment's CA, a peer certificate required. */
export function linkTlsOptions(tls: { ca: string; cert: string; key: string }): SecureContextOptions & {
  requestCert: true;
  rejectUnauthorized: true;
} {
  return { ca: tls.ca, cert: tls.cert, key: tls.key, requestCert: true, rejectUnauthorized: true };
}

/** Why a link peer is refused (the label of the page-server's refusal counter). */
export type LinkRefusal = "no-certificate" | "no-identity" | "not-page-server" | "wrong-host";

/** The link peer's verdict: its identity, or why its HELLO is refused. */
export type LinkPeer = { ok: true; identity: Identity } | { ok: false; refusal: LinkRefusal; reason: string };

/**
 * Checks a link peer at HELLO: the TLS session verified its certificate against the deployment's CA,
 * the certificate names a page-server, and `helloHostId` (what the HELLO says) is exactly that host
 * (a restarted host process keeps its host id and announces a new epoch; the link keys everything it
 * holds of a peer — replicas, write rights, mappings — by that id).
 */
export function authenticateLinkPeer(
  peer: { authorized: boolean; certificate: PeerCertificate | undefined },
  helloHostId: string,
): LinkPeer {
  if (!peer.authorized || peer.certificate === undefined)
    return {
      ok: false,
      refusal: "no-certificate",
      reason: "no verified certificate from this deployment's CA",
    };
  const id = identityFromSubjectAltName(peer.certificate.subjectaltname);
  if (id === undefined)
    return { ok: false, refusal: "no-identity", reason: "the certificate names no xensim identity" };
  if (id.kind !== "service" || id.name !== "page-server")
    return {
      ok: false,
      refusal: "not-page-server",
      reason: `${describeIdentity(id)} is not a host's page-server`,
    };
  if (id.host !== helloHostId)
    return {
      ok: false,
      refusal: "wrong-host",
      reason: `HELLO says host ${helloHostId}, the certificate says ${id.host}`,
    };
  return { ok: true, identity: id };
}

/** {@link authenticateLinkPeer} for a TLS socket. */
export function authenticateLinkSocket(sock: TLSSocket, helloHostId: string): LinkPeer {
  const c = sock.getPeerCertificate();
  return authenticateLinkPeer(
    { authorized: sock.authorized, certificate: c && Object.keys(c).length > 0 ? c : undefined },
    helloHostId,
  );
}
