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
    ['INDICATOR_KIND_NAMES', 'IndicatorError', 'isIndicatorKindName', 'parseIndicatorKindName'],
  ],
  [
    'crypto',
    crypto,
    [
      'CIPHERSUITE_ID',
      'CryptoError',
      'HASH_TO_CURVE_SUITE',
      'HASH_TO_GROUP_DST',
      'POINT_LENGTH',
      'assertBytes',
      'equalBytes',
      'sha256',
    ],
  ],
  [
    'protocol',
    protocol,
    ['PROTOCOL_VERSION', 'ProtocolError', 'formatRevealPolicy', 'parseRevealPolicy', 'revealPolicySchema'],
  ],
  ['log', log, ['HASH_LENGTH', 'LogError', 'leafHash', 'nodeHash', 'rootFromLeafHashes', 'rootHash', 'splitPoint']],
  ['relay', relay, ['RELAY_VERSION', 'RelayError', 'startRelayServer']],
  ['client', client, ['ClientError', 'checkRelayHealth', 'parseRelayUrl']],
  ['cli', cli, ['CLI_VERSION', 'EXIT', 'buildProgram', 'runProgram']],
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
