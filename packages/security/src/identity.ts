// Who a peer is, as its credentials say: a service of a host process (with the domain it acts as),
// or a client tool. Carried in certificates as a URI subject alternative name
// (spiffe://xensim/host/<host>/svc/<service>[/dom/<domid>], spiffe://xensim/client/<name>) and named
// the same way for NATS users. Identity comes from the transport, never from a request field.

/** dom0's services: privileged, they act as domain 0 (a driver domain's backend would name its own). */
export const DOM0_SERVICES = [
  "xenstored",
  "hypervisor",
  "page-server",
  "blkback",
  "toolstack",
  "device-model",
  "displback",
] as const;

/** Services that act for the (unprivileged) domains homed on their host, never as dom0. */
export const DOMAIN_SERVICES = ["guest"] as const;

export const ALL_SERVICES = [...DOM0_SERVICES, ...DOMAIN_SERVICES] as const;

export interface Identity {
  readonly kind: "service" | "client";
  /** The service's name ("blkback") or the client's ("admin"). */
  readonly name: string;
  /** The host process the service belongs to ("" for clients). */
  readonly host: string;
  /**
   * The domain whose privileges the peer has: 0 for dom0's services and the admin client, a driver
   * domain's id for its backends; undefined for the guest runtime (it acts for the domains homed on
   * `host`) and other clients.
   */
  readonly domid?: number;
}

const TRUST_DOMAIN = "xensim";
const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** Host ids, service and client names: letters, digits, '.', '_', '-' (they appear in URIs and subjects). */
export function isValidName(s: string): boolean {
  return TOKEN.test(s);
}

/** The identity of a service on a host (domid 0 for dom0's services, none for the guest runtime). */
export function serviceIdentity(host: string, service: string, domid?: number): Identity {
  const d = domid ?? ((DOM0_SERVICES as readonly string[]).includes(service) ? 0 : undefined);
  return d === undefined
    ? { kind: "service", name: service, host }
    : { kind: "service", name: service, host, domid: d };
}

export function clientIdentity(name: string): Identity {
  return { kind: "client", name, host: "" };
}

/** The URI naming an identity in a certificate. */
export function identityUri(id: Identity): string {
  const dom = id.domid === undefined ? "" : `/dom/${id.domid}`;
  if (id.kind === "client") return `spiffe://${TRUST_DOMAIN}/client/${id.name}${dom}`;
  return `spiffe://${TRUST_DOMAIN}/host/${id.host}/svc/${id.name}${dom}`;
}

/** Parses {@link identityUri}'s form; undefined for anything else. */
export function parseIdentityUri(uri: string): Identity | undefined {
  const prefix = `spiffe://${TRUST_DOMAIN}/`;
  if (!uri.startsWith(prefix)) return undefined;
  const parts = uri.slice(prefix.length).split("/");
  if (parts[0] === "client" && isValidName(parts[1] ?? "")) {
    if (parts.length === 2) return clientIdentity(parts[1] as string);
    if (
      parts.length === 4 &&
      parts[2] === "dom" &&
      /^\d{1,5}$/.test(parts[3] as string) &&
      Number(parts[3]) < 0x7ff0
    )
      return { ...clientIdentity(parts[1] as string), domid: Number(parts[3]) };
    return undefined;
  }
  if (parts.length !== 4 && parts.length !== 6) return undefined;
  const [h, host, s, name, d, dom] = parts as [string, string, string, string, string?, string?];
  if (h !== "host" || s !== "svc" || !isValidName(host) || !isValidName(name)) return undefined;
  if (parts.length === 4) return { kind: "service", name, host };
  if (d !== "dom" || dom === undefined || !/^\d{1,5}$/.test(dom) || Number(dom) >= 0x7ff0) return undefined;
  return { kind: "service", name, host, domid: Number(dom) };
}

/**
 * The identity in a peer certificate's subjectAltName as Node reports it
 * ("URI:spiffe://…, DNS:localhost, IP Address:127.0.0.1"); exactly one xensim URI, else undefined.
 */
export function identityFromSubjectAltName(san: string | undefined): Identity | undefined {
  if (!san) return undefined;
  const found = san
    .split(/,\s*/)
    .filter((x) => x.startsWith("URI:"))
    .map((x) => parseIdentityUri(x.slice(4)))
    .filter((x): x is Identity => x !== undefined);
  return found.length === 1 ? found[0] : undefined;
}

/** "blkback@host-a (dom0)", "guest@host-a", "client admin" — for logs and errors. */
export function describeIdentity(id: Identity | undefined): string {
  if (id === undefined) return "an unauthenticated peer";
  if (id.kind === "client") return `client ${id.name}${id.domid === undefined ? "" : ` (dom${id.domid})`}`;
  return `${id.name}@${id.host}${id.domid === undefined ? "" : ` (dom${id.domid})`}`;
}

/**
 * Does a credential issued for `credentialHost` cover the runtime host id `hostId`? Equal, or a host
 * id derived from it (`<host>.<suffix>`). The data-plane link does not use this: its peer's host must
 * be exactly the certificate's (a restarted host keeps its id and announces a new epoch).
 */
export function hostMatches(credentialHost: string, hostId: string): boolean {
  return hostId === credentialHost || hostId.startsWith(`${credentialHost}.`);
}
