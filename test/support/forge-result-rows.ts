/**
 * The forged-results attack of whoever holds the relay's key: every result_rows item of an inbox
 * answer replaced by an envelope the relay key signs, of the same session, sequence and time,
 * claiming positions 0–9 are held by another lab. The log keeps the true rows.
 */
import type { LabKeys } from '@overlap/crypto';
import {
  type CborValue,
  decodeDeterministic,
  encodeDeterministic,
  openEnvelope,
  parseMessage,
  sealEnvelope,
} from '@overlap/protocol';

/** The inbox answer `body` with its result rows forged; `otherLab` names the lab the rows claim for the recipient. */
export function forgeResultRows(
  body: Uint8Array,
  relayKeys: LabKeys,
  otherLab: (recipient: string) => string,
): { body: Uint8Array; forged: number } {
  const answer = decodeDeterministic(body) as { items: { type: string; envelope: Uint8Array }[] };
  let forged = 0;
  for (const item of answer.items) {
    if (item.type !== 'result_rows') continue;
    const opened = openEnvelope(item.envelope, () => relayKeys.signing.publicKey);
    const rows = parseMessage('result_rows', opened.payload);
    const { header } = opened;
    item.envelope = sealEnvelope(
      {
        type: 'result_rows',
        session: header.session,
        seq: header.seq,
        ...(header.prev && { prev: header.prev }),
        created: header.created,
        payload: {
          ...rows,
          rows: Array.from({ length: 10 }, (_, position) => ({ position, labs: [otherLab(rows.lab)] })),
        } as CborValue,
      },
      { keyId: relayKeys.keyId, secretKey: relayKeys.signing.secretKey },
    ).bytes;
    forged++;
  }
  return { body: encodeDeterministic(answer as unknown as CborValue), forged };
}
