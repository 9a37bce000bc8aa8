/**
 * How the relay reports the errors of @overlap/protocol on the wire (spec/errors.md §3). The
 * protocol's codes say what is wrong with a value; which wire code a client gets depends also on
 * the stage that found it:
 *   - opening the envelope (spec/protocol.md §3): BAD_ENCODING anywhere in it (the envelope, its
 *     header or its payload) is 400 BAD_CBOR; every other failure — the envelope's shape and its
 *     header fields (the protocol's INVALID_MESSAGE), length, digest, sender, signature — is
 *     400 BAD_ENVELOPE;
 *   - checking the payload against its message's schema (spec/protocol.md §4) or the session
 *     engine's rules (§5): 422 PROTOCOL_VIOLATION, the message naming every invalid field's path.
 */
import { ProtocolError } from '@overlap/protocol';
import { RelayError } from './errors.js';

/** An error thrown while opening an envelope, as the relay answers it. */
export function envelopeError(error: unknown): unknown {
  if (!(error instanceof ProtocolError)) return error;
  return new RelayError(error.code === 'BAD_ENCODING' ? 'BAD_CBOR' : 'BAD_ENVELOPE', describe(error), {
    cause: error,
  });
}

/** An error thrown while validating a payload or applying the session's rules, as the relay answers it. */
export function messageError(error: unknown): unknown {
  if (!(error instanceof ProtocolError)) return error;
  return new RelayError(error.code === 'BAD_ENCODING' ? 'BAD_CBOR' : 'PROTOCOL_VIOLATION', describe(error), {
    cause: error,
  });
}

/** Runs a payload check, reporting a protocol error as `messageError` does. */
export function checkMessage<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    throw messageError(error);
  }
}

/** The error's message with the path of every issue, so the client learns which field is wrong. */
function describe(error: ProtocolError): string {
  if (error.issues.length === 0) return error.message;
  // parseWithSchema already lists the issues in its message; others get them appended.
  const listed = error.issues.every((i) => error.message.includes(`${i.path.join('.') || '(root)'}: ${i.message}`));
  if (listed) return error.message;
  const issues = error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  return `${error.message}: ${issues}`;
}
