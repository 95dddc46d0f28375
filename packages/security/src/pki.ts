// A small local CA and the certificates it issues (ECDSA P-256, SHA-256), on @peculiar/x509 over
// Node's WebCrypto. Each leaf names its identity in a URI subject alternative name and may serve and
// call (serverAuth + clientAuth): gRPC runs mutual TLS, every service is both.
// @peculiar/x509 resolves its algorithm providers through tsyringe, which needs the Reflect API.
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { type Identity, identityUri } from "./identity.js";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const DAY = 24 * 3600 * 1000;

export interface PemPair {
  /** Certificate, PEM. */
  cert: string;
  /** PKCS#8 private key, PEM. */
  key: string;
}

async function keyPem(k: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey("pkcs8", k);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

async function importKey(pem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey("pkcs8", x509.PemConverter.decode(pem)[0] as ArrayBuffer, ALG, true, [
    "sign",
  ]);
}

function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = (b[0] as number) & 0x7f; // positive
  return Buffer.from(b).toString("hex");
}

/** A self-signed CA, valid `days` (default 3650). */
export async function createCa(name = "xensim local CA", days = 3650): Promise<PemPair> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + days * DAY),
    signingAlgorithm: ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString("pem"), key: await keyPem(keys.privateKey) };
}

export interface IssueOptions {
  /** DNS names the certificate also answers to (container host names, "localhost"). */
  dnsNames?: readonly string[];
  /** IP addresses (default 127.0.0.1 and ::1). */
  ips?: readonly string[];
  days?: number;
}

/** A leaf certificate for `id`, signed by `ca`. */
export async function issueCertificate(
  ca: PemPair,
  id: Identity,
  options: IssueOptions = {},
): Promise<PemPair> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importKey(ca.key);
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const cn = id.kind === "client" ? `client ${id.name}` : `${id.name}@${id.host}`;
  const names: x509.JsonGeneralName[] = [
    { type: "url", value: identityUri(id) },
    ...(options.dnsNames ?? ["localhost"]).map((d) => ({ type: "dns" as const, value: d })),
    ...(options.ips ?? ["127.0.0.1", "::1"]).map((ip) => ({ type: "ip" as const, value: ip })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${cn}, O=xensim`,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + (options.days ?? 825) * DAY),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return { cert: cert.toString("pem"), key: await keyPem(keys.privateKey) };
}
