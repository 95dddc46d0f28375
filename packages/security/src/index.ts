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
} from "./identity.js";
export { createCa, type IssueOptions, issueCertificate, type PemPair } from "./pki.js";
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
export { authenticateLinkPeer, authenticateLinkSocket, type LinkPeer, linkTlsOptions } from "./link.js";
export { bearerMatches } from "./token.js";
