export {
  ALL_SERVICES,
  clientIdentity,
  describeIdentity,
  DOM0_SERVICES,
  DOMAIN_SERVICES,
  hostMatches,
  type Identity,
  identityFromSubjectAltName,
  identityUri,
  isValidName,
  parseIdentityUri,
  serviceIdentity,
  serviceKind,
} from "./identity.js";
export type { IssueOptions, PemPair } from "./pki.js";
import type { Identity } from "./identity.js";
import type { IssueOptions, PemPair } from "./pki.js";

// The CA functions load the X.509 library on first use: every service imports this package (for
// identities and credentials), and that library would cost each worker's start.

/** A self-signed CA, valid `days` (default 3650). */
export async function createCa(name?: string, days?: number): Promise<PemPair> {
  return (await import("./pki.js")).createCa(name, days);
}

/** A leaf certificate for `id`, signed by `ca`. */
export async function issueCertificate(ca: PemPair, id: Identity, options?: IssueOptions): Promise<PemPair> {
  return (await import("./pki.js")).issueCertificate(ca, id, options);
}
export {
  inboxPrefix,
  inboxScope,
  natsPermissions,
  type NatsPermissions,
  natsServerConfig,
  type NatsUser,
  ownerToken,
} from "./nats.js";
export {
  clientIdentityOf,
  type Credentials,
  DEFAULT_HOST_SERVICES,
  initKeys,
  type KeysInitOptions,
  type KeysManifest,
  loadApiToken,
  loadCredentials,
  loadManifest,
} from "./keys.js";
export {
  authenticateLinkPeer,
  authenticateLinkSocket,
  type LinkPeer,
  type LinkRefusal,
  linkTlsOptions,
} from "./link.js";
export { bearerMatches } from "./token.js";
