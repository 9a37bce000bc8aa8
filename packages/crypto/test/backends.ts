/**
 * Both implementations, so that every vector and law runs against each (voprf-ts style). Importing
 * this installs the Node.js platform (as `@overlap/crypto/node` does), so `{ backend: 'native' }`
 * is there for the tests that name it.
 */
import type { BackendName, CryptoBackend } from '../src/backend.js';
import '../src/node/install.js';
import { loadNativeBackend } from '../src/node/native-backend.js';
import { portableBackend } from '../src/portable-backend.js';

export const nativeBackend = loadNativeBackend();

export const BACKENDS: [BackendName, CryptoBackend][] = [
  ['native', nativeBackend],
  ['portable', portableBackend],
];

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
export const unhex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));
/** RFC 9380 prints field elements big-endian; the wire form is little-endian. */
export const beHexToLe = (text: string): Uint8Array => unhex(text).reverse();
