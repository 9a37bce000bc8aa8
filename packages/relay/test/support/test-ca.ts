/**
 * A private CA and a server certificate made by the test itself with @peculiar/x509 on Node's
 * WebCrypto (ECDSA P-256), as PEM: what a forum with its own CA would hand its relay, and the CA
 * certificate its labs would trust (NODE_EXTRA_CA_CERTS). No `openssl` binary is needed.
 */
import 'reflect-metadata'; // tsyringe, which @peculiar/x509 uses, needs it loaded first
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

type KeyPair = Awaited<ReturnType<typeof webcrypto.subtle.generateKey>> & {
  privateKey: webcrypto.CryptoKey;
  publicKey: webcrypto.CryptoKey;
};

export interface TestCertificates {
  /** The CA's certificate, PEM: what a lab trusts. */
  caCert: string;
  /** The server's certificate (for 127.0.0.1 and localhost) and its private key (PKCS #8), PEM. */
  serverCert: string;
  serverKey: string;
}

async function keyPair(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as KeyPair;
}

function serial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] as number) & 0x7f; // positive
  return Buffer.from(bytes).toString('hex');
}

/** A fresh CA and a server certificate it signed, valid from yesterday for 30 days. */
export async function makeTestCertificates(names: string[] = ['127.0.0.1', 'localhost']): Promise<TestCertificates> {
  const ca = await keyPair();
  const notBefore = new Date(Date.now() - DAY_MS);
  const notAfter = new Date(Date.now() + 30 * DAY_MS);
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=Overlap test forum CA',
    notBefore,
    notAfter,
    keys: ca as never,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(ca.publicKey as never),
    ],
  });
  const server = await keyPair();
  const serverCert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${names[0] ?? 'relay'}`,
    issuer: caCert.subject,
    notBefore,
    notAfter,
    publicKey: server.publicKey as never,
    signingKey: ca.privateKey as never,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        names.map((name) => (/^[\d.]+$|:/.test(name) ? { type: 'ip', value: name } : { type: 'dns', value: name })),
      ),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', server.privateKey);
  return {
    caCert: caCert.toString('pem'),
    serverCert: serverCert.toString('pem'),
    serverKey: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
  };
}
