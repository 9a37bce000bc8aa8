/**
 * A RelayClient that trusts the relay only as far as its reader's pinned roots allow (spec/relay-api.md
 * §7): what labs (OverlapClient.connect) and auditors (`overlap audit export`) connect through. The
 * relay's announced identity (`GET /v1/relay`) is checked against the log key and admin key the
 * reader configured or pinned before (trust-store.ts: pinned on first use, with a warning, when
 * neither), the key that signs the relay's envelopes must be the pinned log key's, and with a trust
 * directory every checkpoint is proven against the one remembered there, across runs and processes.
 */
import { join } from 'node:path';
import { fromHex, keyId as keyIdOf, toHex } from '@overlap/crypto';
import {
  formatVerifierKey,
  type NoteVerifier,
  parseVerifierKey,
  type WitnessPolicy,
  witnessPolicy,
} from '@overlap/log';
import type { RelayInfo } from '@overlap/protocol';
import { ClientError } from './errors.js';
import type { CheckpointMemory } from './log-monitor.js';
import { RelayClient } from './relay-client.js';
import type { RetryOptions } from './retry.js';
import type { RequestSigner } from './transport.js';
import { TrustStore } from './trust-store.js';

export interface TrustedRelayOptions {
  relayUrl: string;
  signer: RequestSigner;
  /** The log's verifier key (C2SP vkey) as the forum publishes it; else pinned, or taken on first use. */
  logKey?: string;
  /** The forum admin's Ed25519 public key; else pinned, or taken on first use. */
  adminKey?: Uint8Array;
  /** Where the roots and the last verified checkpoint are remembered (a TrustStore directory). */
  trustDir?: string;
  requirePinnedRoots?: boolean;
  witnesses?: { keys: readonly string[]; quorum?: number; waitMs?: number };
  retry?: RetryOptions;
  signal?: AbortSignal;
}

export interface TrustedRelay {
  relay: RelayClient;
  info: RelayInfo;
  adminKey: Uint8Array;
  /** Whether the log key was given or pinned before (true), or taken from the relay this time (false). */
  logKeyPinned: boolean;
  warnings: string[];
}

export async function connectTrustedRelay(options: TrustedRelayOptions): Promise<TrustedRelay> {
  const bootstrap = new RelayClient({
    url: options.relayUrl,
    ...(options.retry && { retry: options.retry }),
    ...(options.signal && { signal: options.signal }),
  });
  const info = await bootstrap.relayInfo();
  if (options.logKey !== undefined) verifierOf(options.logKey);
  let logKey = options.logKey ?? info.vkey;
  let adminKey = options.adminKey ?? info.admin_key;
  let warnings: string[] = [];
  let logKeyPinned = options.logKey !== undefined;
  let checkpointMemory: CheckpointMemory | undefined;
  if (options.trustDir !== undefined) {
    const store = new TrustStore(options.trustDir);
    const pinned = await store.pin(
      bootstrap.url,
      { origin: info.origin, logKey: info.vkey, adminKey: toHex(info.admin_key) },
      {
        ...(options.logKey !== undefined && { logKey: options.logKey }),
        ...(options.adminKey !== undefined && { adminKey: toHex(options.adminKey) }),
      },
      { requirePinned: options.requirePinnedRoots === true },
    );
    logKey = pinned.logKey;
    adminKey = fromHex(pinned.adminKey, 32);
    warnings = pinned.warnings;
    logKeyPinned = pinned.source !== 'first-use';
    checkpointMemory = { store, relayUrl: bootstrap.url, logKey, evidenceDir: join(options.trustDir, 'evidence') };
  } else {
    if (options.logKey !== undefined && options.logKey !== info.vkey) {
      throw new ClientError('RECEIPT_INVALID', `the relay announces log key ${info.vkey}, not the pinned one`);
    }
    if (options.adminKey !== undefined && toHex(options.adminKey) !== toHex(info.admin_key)) {
      throw new ClientError('BAD_RESPONSE', 'the relay announces another admin key than the pinned one');
    }
  }
  const verifier = verifierOf(logKey);
  // The key that signs the relay's envelopes (log_key, relay_key_id) is announced apart from the
  // vkey: it must be the very key of the trusted vkey, or a relay (or anyone between) could have
  // its envelopes checked against a key of its choosing.
  if (formatVerifierKey(verifier.name, info.log_key) !== logKey || keyIdOf(info.log_key) !== info.relay_key_id) {
    throw new ClientError(
      'TRUST_ROOT_MISMATCH',
      `the relay at ${bootstrap.url} announces log_key ${toHex(info.log_key)} and relay_key_id ${info.relay_key_id}, which are not the key of the trusted log key ${logKey}: refusing it`,
    );
  }
  const policy = options.witnesses === undefined ? undefined : policyOf(options.witnesses);
  const relay = new RelayClient({
    url: options.relayUrl,
    signer: options.signer,
    logVerifier: verifier,
    ...(checkpointMemory && { checkpointMemory }),
    ...(policy && { witnessPolicy: policy }),
    ...(options.witnesses?.waitMs !== undefined && { witnessWaitMs: options.witnesses.waitMs }),
    ...(options.retry && { retry: options.retry }),
    ...(options.signal && { signal: options.signal }),
  });
  return { relay, info, adminKey, logKeyPinned, warnings };
}

function verifierOf(logKey: string): NoteVerifier {
  try {
    return parseVerifierKey(logKey);
  } catch (cause) {
    throw new ClientError('BAD_ARGUMENT', 'the log key is not a verifier key (name+id+key)', { cause });
  }
}

/** The witness policy of the options: each key a cosigner's, the quorum all of them unless given. */
export function policyOf(witnesses: NonNullable<TrustedRelayOptions['witnesses']>): WitnessPolicy {
  try {
    return witnessPolicy(witnesses.keys, witnesses.quorum);
  } catch (cause) {
    throw new ClientError('BAD_ARGUMENT', (cause as Error).message, { cause });
  }
}
