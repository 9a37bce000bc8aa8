/** The wire protocol version every envelope header carries (spec/protocol.md). */
export const PROTOCOL_VERSION = 1;
