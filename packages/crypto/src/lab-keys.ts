/**
 * A lab's long-term keys: an Ed25519 signing key (its identity, named by its key id) and an X25519
 * sealing key (for sealed boxes addressed to it). `dispose()` wipes both secrets.
 */
import { wipe } from './bytes.js';
import { generateSigningKeyPair, keyId, type SigningKeyPair } from './identity.js';
import { generateSealingKeyPair, type SealingKeyPair } from './sealed-box.js';

export interface LabKeys {
  readonly signing: SigningKeyPair;
  readonly sealing: SealingKeyPair;
  /** Key id of the signing key (spec/ciphersuite.md). */
  readonly keyId: string;
  dispose(): void;
}

export function createLabKeys(signing: SigningKeyPair, sealing: SealingKeyPair): LabKeys {
  return {
    signing,
    sealing,
    keyId: keyId(signing.publicKey),
    dispose() {
      wipe(signing.secretKey, sealing.secretKey);
    },
  };
}

export function generateLabKeys(): LabKeys {
  return createLabKeys(generateSigningKeyPair(), generateSealingKeyPair());
}
