/**
 * The attacks of issue "verifiable hops" as cheating engines a real lab process can run (through the
 * SDK's `createSession` seam): each names the lab that cheats and the lab the relay and the audit must
 * blame. Labs are [north, south, east]: north's set goes north → south → east, east's set
 * east → north → south, so south is hop 1 of north's set and the last hop of east's set. Sets are
 * smaller than 135 tags, so `spot` proves every position and each case is deterministic.
 */
import { BlindingKey, type HopProof, type HopProofContext, keyCommitment, provenPositions } from '@overlap/crypto';
import { type BlindTask, LabSession, type LabSessionOptions, tagAt, tagCount } from '@overlap/protocol';
import {
  blindingAs,
  committingAs,
  freshTag,
  inverseTag,
  mapTags,
  provingAs,
  revealingAs,
  tagOutsideG,
  uploadingAs,
} from '../../packages/audit/test/support/cheating-labs.js';

export type LabName = 'north' | 'south' | 'east';
type Make = (options: LabSessionOptions) => LabSession;

export interface Attack {
  /** Who runs the cheating engine. */
  cheater: LabName;
  /** Whom the relay and the audit must name. */
  culprit: LabName;
  make: Make;
  /**
   * How a session that cannot go on ends: `refusal` — the relay refuses the cheater's envelope and
   * aborts at once, its abort carrying the envelope (the audit's abort check: VIOLATION_REFUSED);
   * `deadline` — the cheater never sends its part, and the deadline names it (DEADLINE_MISSED).
   * Unset: the relay takes the envelope, catches the cheat, and aborts naming it.
   */
  ends?: 'refusal' | 'deadline';
  /** Items per lab, when the case needs more than one proof can cover (default 40). */
  items?: number;
}

/** South is hop 1 of north's set only. */
const hop1OfNorth = (task: BlindTask) => task.hop === 1;
const lastHop = (task: BlindTask) => task.hop === 2;
const swap = (tags: Uint8Array, i: number, j: number) =>
  mapTags(tags, (tag, k) => (k === i ? tagAt(tags, j) : k === j ? tagAt(tags, i) : tag));
/** −B: the key commitment of the clamped scalar 5L − 1 (ciphersuite.md §10). */
const negatedBase = () => {
  const L = 2n ** 252n + 27742317777372353535851937790883648493n;
  let n = 5n * L - 1n;
  const bytes = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    bytes[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  const key = BlindingKey.fromBytes(bytes);
  try {
    return keyCommitment(key);
  } finally {
    key.dispose();
  }
};
/** An unrelated key's commitment. */
const otherKey = () => {
  const key = BlindingKey.generate();
  try {
    return keyCommitment(key);
  } finally {
    key.dispose();
  }
};

export const ATTACKS: Record<string, Attack> = {
  'copy one tag everywhere': {
    cheater: 'south',
    culprit: 'south',
    make: blindingAs((honest) => mapTags(honest, () => tagAt(honest, 0)), hop1OfNorth),
  },
  'duplicate some tags': {
    cheater: 'south',
    culprit: 'south',
    make: blindingAs((honest) => mapTags(honest, (tag, i) => (i % 7 === 3 ? tagAt(honest, 0) : tag)), hop1OfNorth),
  },
  'identity: the inputs returned': {
    cheater: 'south',
    culprit: 'south',
    make: blindingAs((_honest, task) => Uint8Array.from(task.tags), hop1OfNorth),
  },
  'random curve points': {
    cheater: 'south',
    culprit: 'south',
    make: blindingAs((honest) => mapTags(honest, () => freshTag()), hop1OfNorth),
  },
  'twist points': {
    cheater: 'south',
    culprit: 'south',
    make: blindingAs((honest) => mapTags(honest, (tag, i) => (i < 3 ? tagOutsideG() : tag)), hop1OfNorth),
  },
  'nullify the last hop with fresh points': {
    cheater: 'south',
    culprit: 'south',
    make: blindingAs((honest) => mapTags(honest, () => freshTag()), lastHop),
  },
  'substitute half a chunk': {
    cheater: 'south',
    culprit: 'south',
    make: blindingAs((honest) => mapTags(honest, (tag, i) => (i % 2 === 0 ? freshTag() : tag)), hop1OfNorth),
  },
  'reorder within a chunk': {
    cheater: 'south',
    culprit: 'south',
    make: blindingAs((honest) => swap(honest, 0, tagCount(honest) - 1), hop1OfNorth),
  },
  'u → 1/u at the last hop': {
    cheater: 'south',
    culprit: 'south',
    make: blindingAs((honest) => mapTags(honest, inverseTag), lastHop),
  },
  'owner uploads u and 1/u to frame hop 1': {
    cheater: 'north',
    culprit: 'north',
    make: uploadingAs((chunk) => ({
      ...chunk,
      tags: mapTags(chunk.tags, (tag, i) => (i === 1 ? inverseTag(tagAt(chunk.tags, 0)) : tag)),
    })),
  },
  'a K = −B key commitment': {
    cheater: 'south',
    culprit: 'south',
    ends: 'refusal',
    make: committingAs((honest) => ({ ...honest, key: negatedBase() })),
  },
  'a wrong key commitment': {
    cheater: 'south',
    culprit: 'south',
    make: committingAs((honest) => ({ ...honest, key: otherKey() })),
  },
  'a proof for other positions than σ chose': {
    cheater: 'south',
    culprit: 'south',
    items: 400,
    make: (options) => new OtherPositions(options),
  },
  'a proof from another session': {
    cheater: 'south',
    culprit: 'south',
    make: provingAs((context, positions, inputs, honest) => {
      const other: HopProofContext = { ...context, sessionId: globalThis.crypto.getRandomValues(new Uint8Array(16)) };
      return honest(other, positions, inputs);
    }),
  },
  'a coin that is not the committed one': {
    cheater: 'east',
    culprit: 'east',
    make: revealingAs(() => globalThis.crypto.getRandomValues(new Uint8Array(32))),
  },
  'no reveal': {
    cheater: 'east',
    culprit: 'east',
    ends: 'deadline',
    make: revealingAs(() => undefined),
  },
};

/** Proves 135 positions of each chunk drawn from another σ (all zero), with those positions' inputs. */
class OtherPositions extends LabSession {
  readonly #tasks: Uint8Array[] = [];
  protected override async blindChunk(task: BlindTask): Promise<Uint8Array> {
    this.#tasks.push(task.tags);
    return super.blindChunk(task);
  }
  protected override proveChunk(context: HopProofContext, positions: number[], inputs: Uint8Array[]): HopProof {
    const first = inputs[0] as Uint8Array;
    const tags = this.#tasks.find((t) => Buffer.from(t).includes(Buffer.from(first))) as Uint8Array;
    const other = provenPositions(new Uint8Array(64), context.digest, tagCount(tags), 'spot');
    if (other.join() === positions.join()) throw new Error('the other positions are the chosen ones');
    return super.proveChunk(
      context,
      other,
      other.map((j) => tagAt(tags, j)),
    );
  }
}
