/**
 * A private CA and server certificates made in the test with @peculiar/x509 on WebCrypto (ECDSA
 * P-256), exported as PEM: no `openssl` binary. For the TLS failures a lab meets: a certificate from
 * a CA it does not trust, a self-signed one, an expired one, one for another host name.
 */
import './reflect-metadata-shim.js';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 3_600_000;

export interface Pem {
  cert: string;
  key: string;
}

export interface TestCa extends Pem {
  /** A server certificate signed by this CA, for `names` (DNS names and IP addresses). */
  issue(names: string[], validity?: { notBefore: Date; notAfter: Date }): Promise<Pem>;
}

export async function makeTestCa(commonName = 'Overlap test CA'): Promise<TestCa> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 30 * DAY_MS),
    keys: keys as CryptoKeyPair,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as CryptoKey),
    ],
  });
  return {
    cert: caCert.toString('pem'),
    key: await privateKeyPem(keys.privateKey as CryptoKey),
    async issue(names, validity) {
      const leafKeys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: randomSerial(),
        subject: `CN=${names[0] ?? 'server'}`,
        issuer: caCert.subject,
        notBefore: validity?.notBefore ?? new Date(Date.now() - DAY_MS),
        notAfter: validity?.notAfter ?? new Date(Date.now() + 30 * DAY_MS),
        publicKey: leafKeys.publicKey as CryptoKey,
        signingKey: keys.privateKey as CryptoKey,
        signingAlgorithm: ALGORITHM,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension(names.map(altName)),
          await x509.AuthorityKeyIdentifierExtension.create(caCert),
        ],
      });
      return { cert: leaf.toString('pem'), key: await privateKeyPem(leafKeys.privateKey as CryptoKey) };
    },
  };
}

/** A server certificate signed by its own key (not a CA): what `DEPTH_ZERO_SELF_SIGNED_CERT` names. */
export async function selfSignedCertificate(names: string[]): Promise<Pem> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=${names[0] ?? 'server'}`,
    notBefore: new Date(Date.now() - DAY_MS),
    notAfter: new Date(Date.now() + 30 * DAY_MS),
    keys: keys as CryptoKeyPair,
    signingAlgorithm: ALGORITHM,
    extensions: [new x509.SubjectAlternativeNameExtension(names.map(altName))],
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey as CryptoKey) };
}

function altName(name: string): { type: 'ip' | 'dns'; value: string } {
  return /^[\d.]+$|:/.test(name) ? { type: 'ip', value: name } : { type: 'dns', value: name };
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] as number) & 0x7f; // a positive serial
  return Buffer.from(bytes).toString('hex');
}
