/**
 * What each package's index.ts exports, exactly. A change to a public surface must change this
 * list too, so it is always a deliberate, reviewed change.
 */
import { readFileSync } from 'node:fs';
import * as cli from '@overlap/cli';
import * as client from '@overlap/client';
import * as crypto from '@overlap/crypto';
import * as indicators from '@overlap/indicators';
import * as log from '@overlap/log';
import * as protocol from '@overlap/protocol';
import * as relay from '@overlap/relay';
import { describe, expect, test } from 'vitest';

const surfaces: [string, object, string[]][] = [
  [
    'indicators',
    indicators,
    [
      'DEFAULT_PREFIX_LENGTH',
      'IMPORT_FORMATS',
      'INDICATOR_KINDS',
      'INDICATOR_KIND_NAMES',
      'IndicatorError',
      'MAX_LINE_LENGTH',
      'RULE_DEPENDENCIES',
      'canonicalize',
      'deriveIpPrefix',
      'deriveRegistrableDomain',
      'emptySummary',
      'formatFromPath',
      'getIndicatorKind',
      'isErrorRecord',
      'isIndicatorKindName',
      'normalizeRecords',
      'numberedLines',
      'parseImportFormat',
      'parseIndicatorKindName',
      'parseStixPattern',
      'readCsv',
      'readJsonl',
      'readPlainLines',
      'readRecords',
      'readStix',
      'registrableDomainOf',
      'utf8Strings',
    ],
  ],
  [
    'crypto',
    crypto,
    [
      'BACKEND_ENV_VAR',
      'BatchPool',
      'BlindingKey',
      'CIPHERSUITE_ID',
      'CryptoError',
      'DEFAULT_SCRYPT',
      'ED25519_PUBLIC_KEY_LENGTH',
      'ED25519_SEED_LENGTH',
      'ED25519_SIGNATURE_LENGTH',
      'HASH_TO_CURVE_SUITE',
      'HASH_TO_GROUP_DST',
      'HASH_TO_GROUP_DST_BYTES',
      'KEY_FILE_TYPE',
      'KEY_FILE_VERSION',
      'POINT_LENGTH',
      'SEALED_BOX_OVERHEAD',
      'SEALING_KEY_LENGTH',
      'assertBytes',
      'assertLength',
      'assertPublicKey',
      'blind',
      'blindBatch',
      'concatBytes',
      'createLabKeys',
      'decodeKeyFile',
      'encodeKeyFile',
      'equalBytes',
      'fromHex',
      'generateLabKeys',
      'generateSealingKeyPair',
      'generateSigningKeyPair',
      'getBackend',
      'hashAndBlind',
      'hashAndBlindBatch',
      'hashToGroup',
      'hashToGroupBatch',
      'isAllZero',
      'keyId',
      'openSealed',
      'readKeyFile',
      'seal',
      'sealingPublicKey',
      'selectBackend',
      'sha256',
      'sign',
      'signingPublicKey',
      'toHex',
      'verify',
      'wipe',
      'writeKeyFile',
    ],
  ],
  [
    'protocol',
    protocol,
    [
      'DEFAULT_CBOR_LIMITS',
      'ENVELOPE_DOMAIN',
      'MESSAGE_TYPES',
      'PROTOCOL_VERSION',
      'ProtocolError',
      'SESSION_ID_LENGTH',
      'checkChain',
      'decodeDeterministic',
      'encodeDeterministic',
      'envelopeHeaderSchema',
      'formatRevealPolicy',
      'openEnvelope',
      'parseRevealPolicy',
      'parseWithSchema',
      'revealPolicySchema',
      'sealEnvelope',
    ],
  ],
  [
    'log',
    log,
    [
      'ED25519_COSIGNATURE_TYPE',
      'ED25519_NOTE_SIGNATURE_TYPE',
      'HASH_LENGTH',
      'LogError',
      'MAX_NOTE_SIGNATURES',
      'consistencyProof',
      'ed25519CosignatureVerifier',
      'ed25519Cosigner',
      'ed25519NoteSigner',
      'ed25519NoteVerifier',
      'formatCheckpoint',
      'formatSignedNote',
      'formatVerifierKey',
      'inclusionProof',
      'leafHash',
      'nodeHash',
      'noteKeyId',
      'parseCheckpoint',
      'parseSignedNote',
      'parseVerifierKey',
      'rootFromLeafHashes',
      'rootHash',
      'signNote',
      'splitPoint',
      'verifyConsistency',
      'verifyInclusion',
      'verifySignedNote',
    ],
  ],
  ['relay', relay, ['RELAY_VERSION', 'RelayError', 'startRelayServer']],
  ['client', client, ['ClientError', 'checkRelayHealth', 'parseRelayUrl']],
  ['cli', cli, ['CLI_VERSION', 'CliError', 'EXIT', 'buildProgram', 'runProgram']],
];

describe.each(surfaces)('@overlap/%s', (name, module, expected) => {
  test('exports exactly its public names', () => {
    expect(Object.keys(module).sort()).toEqual([...expected].sort());
  });

  test('index.ts is an explicit list of named exports (no export *)', () => {
    const index = readFileSync(new URL(`../packages/${name}/src/index.ts`, import.meta.url), 'utf8');
    expect(index).not.toMatch(/export\s+\*/);
  });
});
