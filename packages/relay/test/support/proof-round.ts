/**
 * Two hand-driven labs through a session's proof round on a TestRelay (spec/protocol.md §5.2):
 * joined, every hop answered, the relay's items read from the inboxes, hop proofs made at the
 * positions the challenge's coins choose. Shared by the proof-round suites.
 */
import {
  type BlindingKey,
  blind,
  challengeSeed,
  hashAndBlind,
  proveHop,
  provenPositions,
  toHex,
} from '@overlap/crypto';
import {
  decodeDeterministic,
  eachTag,
  openEnvelope,
  packTags,
  parseMessage,
  tagAt,
  tagCount,
  verifyEnvelope,
} from '@overlap/protocol';
import { expect } from 'vitest';
import { type Actor, hex, joinBody, seal, TestRelay } from './harness.js';

let relays: TestRelay[] = [];

/** Closes every relay `joined` started (an afterEach). */
export async function closeRelays(): Promise<void> {
  for (const t of relays) await t.close();
  relays = [];
}

export interface Item {
  n: number;
  type: string;
  index: number;
  envelope: Uint8Array;
  hop?: number;
}

/** A session of labs a and b on a new relay (closed by `closeRelays`), joined; a holds `sizeA` e-mail items, b `sizeB`. */
export async function joined(
  sizeA: number,
  sizeB: number,
  options: Parameters<typeof TestRelay.start>[0] = {},
  proposal: Record<string, unknown> = {},
) {
  const t = await TestRelay.start(options);
  relays.push(t);
  const a = await t.enroll('a');
  const b = await t.enroll('b');
  const session = await t.propose([a, b], { maxItemsPerKind: 5000, ...proposal });
  const path = `/v1/sessions/${hex(session)}`;
  const sizes = new Map([
    [a, sizeA],
    [b, sizeB],
  ]);
  const post = async (
    who: Actor,
    type: 'join' | 'tag_chunk' | 'blind_result' | 'reveal' | 'hop_proof',
    body: unknown,
  ) => t.request('POST', `${path}/envelopes`, seal(who, type, session, body).bytes, { signer: who });
  const inbox = async (who: Actor, after = 0): Promise<Item[]> =>
    (
      (await t.request('GET', `${path}/inbox?after=${after}&wait=3000`, undefined, { signer: who })).body as {
        items: Item[];
      }
    ).items;
  const status = async () =>
    (await t.request('GET', path, undefined, { signer: a })).body as {
      state: string;
      waiting_on: string[];
      abort?: { reason: string; culprit?: string };
    };
  const relayKey = ((await t.request('GET', '/v1/relay')).body as { log_key: Uint8Array }).log_key;
  const keyOf = (id: string) =>
    id === a.keyId ? a.keys.signing.publicKey : id === b.keyId ? b.keys.signing.publicKey : relayKey;
  for (const [who, size] of sizes)
    expect((await post(who, 'join', joinBody(who, session, { email: size }))).status).toBe(200);
  const key = (who: Actor) => (who.secrets.get(hex(session)) as { key: BlindingKey }).key;
  return { t, a, b, session, path, post, inbox, status, keyOf, key, sizes };
}

export type Session = Awaited<ReturnType<typeof joined>>;
export type Task = { inputs: Uint8Array; digest: Uint8Array; owner: string };
export type Answered = Map<Actor, Task>;

/** Each lab uploads its set and answers its blind task; returns what each answered (for its proof). */
export async function throughEveryHop(s: Session) {
  for (const [who, size] of s.sizes) {
    if (size === 0) continue;
    const tags = packTags(
      Array.from({ length: size }, (_, i) => hashAndBlind(s.key(who), 'email', `${who.keyId}${i}@x`)),
    );
    expect((await s.post(who, 'tag_chunk', { kind: 'email', owner: who.keyId, hop: 0, first: 0, tags })).status).toBe(
      200,
    );
  }
  const answered = new Map<Actor, { inputs: Uint8Array; digest: Uint8Array; owner: string }>();
  for (const who of [s.a, s.b]) {
    const other = who === s.a ? s.b : s.a;
    if (s.sizes.get(other) === 0) continue;
    const [task] = await s.inbox(who);
    expect(task?.type).toBe('blind_task');
    const source = parseMessage('tag_chunk', openEnvelope((task as Item).envelope, s.keyOf).payload);
    const tags = packTags([...eachTag(source.tags)].map((u) => blind(s.key(who), u)));
    const sealed = seal(who, 'blind_result', s.session, { kind: 'email', owner: other.keyId, hop: 1, first: 0, tags });
    expect((await s.t.request('POST', `${s.path}/envelopes`, sealed.bytes, { signer: who })).status).toBe(200);
    answered.set(who, { inputs: source.tags, digest: sealed.header.digest, owner: other.keyId });
  }
  return answered;
}

/** The relay envelope of the first inbox item of `type` for `who`, checked to be the relay's and of this session. */
export async function relayItem(s: Session, who: Actor, type: string): Promise<Item & { body: unknown }> {
  for (let after = 0; ; ) {
    const items = await s.inbox(who, after);
    const found = items.find((item) => item.type === type);
    if (found) {
      const verified = verifyEnvelope(found.envelope, s.keyOf);
      expect(verified.header.sender).toBe(s.t.relay.relayKeyId);
      expect(verified.header.type).toBe(type);
      expect(toHex(verified.header.session)).toBe(hex(s.session));
      return { ...found, body: decodeDeterministic(verified.payloadBytes) };
    }
    if (items.length === 0) throw new Error(`no ${type} for ${who.keyId}`);
    after = (items.at(-1) as Item).n + 1;
  }
}

/** `who`'s hop proof for its answered task, at the positions the challenge's coins choose. */
export function hopProof(
  s: Session,
  who: Actor,
  coins: Uint8Array[],
  task: { inputs: Uint8Array; digest: Uint8Array; owner: string },
) {
  const sigma = challengeSeed(s.session, coins);
  const positions = provenPositions(sigma, task.digest, tagCount(task.inputs), 'spot');
  const proof = proveHop(
    s.key(who),
    { sessionId: s.session, digest: task.digest },
    positions,
    positions.map((j) => tagAt(task.inputs, j)),
  );
  return { kind: 'email', owner: task.owner, hop: 1, first: 0, signs: proof.signs, proof: proof.proof };
}
