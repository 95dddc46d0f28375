// Which service of a host process asks the data-plane link for a foreign mapping (privcmd's
// xenforeignmemory_map / _map_resource). The services of one host process are worker threads that
// share the host's page store, so a request's bytes in the host's record queue say nothing about
// who wrote them. The host supervisor holds a random secret per host process; each worker it starts
// gets the key derived from that secret and its own service name (in its workerData, never in
// shared memory), and signs its foreign-map requests with it; the host's link thread, which alone
// gets the secret, verifies the signature and vouches for the service to the hypervisor's host —
// which decides as Xen's XSM/privcmd would (docs/data-plane.md, "Foreign mappings: who may map").
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

/** A worker's link principal: its service name and the key the host derived for it. */
export interface LinkPrincipal {
  service: string;
  key: Uint8Array;
}

/** Verifies a principal's signature of a request (the link thread's side). */
export interface LinkPrincipalVerifier {
  verify(service: string, message: Uint8Array, mac: Uint8Array): boolean;
}

const LABEL = "xensim link principal v1\0";

/** A fresh host secret (32 random bytes): one per host process start. */
export function newLinkHostSecret(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/** The key of `service` under `hostSecret` (HMAC-SHA256 of a label and the name). */
export function linkPrincipalKey(hostSecret: Uint8Array, service: string): Uint8Array {
  return new Uint8Array(createHmac("sha256", hostSecret).update(LABEL).update(service).digest());
}

/** The signature of `message` by `principal` (HMAC-SHA256, 32 bytes). */
export function signLinkRequest(principal: LinkPrincipal, message: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha256", principal.key).update(message).digest());
}

/** The link thread's verifier for the host whose secret is `hostSecret`. */
export function linkPrincipalVerifier(hostSecret: Uint8Array): LinkPrincipalVerifier {
  const keys = new Map<string, LinkPrincipal>();
  return {
    verify(service, message, mac) {
      if (mac.length !== 32 || service === "") return false;
      let p = keys.get(service);
      if (!p) {
        p = { service, key: linkPrincipalKey(hostSecret, service) };
        if (keys.size < 256) keys.set(service, p);
      }
      return timingSafeEqual(signLinkRequest(p, message), mac);
    },
  };
}

let threadPrincipal: LinkPrincipal | undefined;

/**
 * This thread's principal (the runtime sets it in each service worker before the service starts;
 * a service passes it on to threads of its own with setThreadLinkPrincipal). Module state: each
 * worker thread has its own.
 */
export function setThreadLinkPrincipal(p: LinkPrincipal | undefined): void {
  threadPrincipal = p;
}

export function threadLinkPrincipal(): LinkPrincipal | undefined {
  return threadPrincipal;
}
