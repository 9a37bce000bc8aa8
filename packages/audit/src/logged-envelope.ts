/**
 * An envelope of the transcript that opened under a key allowed to sign at its log index, and the
 * session as the later checks see it: its envelopes that verified, in log order.
 */
import { type MessageType, type OpenedEnvelope, parseMessage } from '@overlap/protocol';
import { atEntry } from './verdict.js';

export interface LoggedEnvelope {
  /** Its index in the log (proven by its receipt). */
  index: number;
  envelope: OpenedEnvelope;
}

export interface SessionView {
  /** The relay's key id: the sender of its `result_rows` and `abort`. */
  relayKeyId: string;
  /** The session's envelopes whose signatures verified, in log order. */
  envelopes: readonly LoggedEnvelope[];
}

/** The envelope's payload as a `type` message; a payload that is not one is `MESSAGE_INVALID` at its index. */
export function payloadOf<T extends MessageType>(type: T, entry: LoggedEnvelope): ReturnType<typeof parseMessage<T>> {
  return atEntry(entry.index, 'MESSAGE_INVALID', `log index ${entry.index}`, () =>
    parseMessage(type, entry.envelope.payload),
  );
}
