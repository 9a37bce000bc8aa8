/**
 * Cheating labs for the audit's tests: LabSession subclasses (its protected test seam) that each
 * break one rule of spec/protocol.md §5.1–5.3, and the field arithmetic they need (1/u mod p, with
 * big integers, independent of the crypto package). `cheat(name, make)` plugs one in for one lab
 * of runEngineSession.
 */
import { type HopProof, type HopProofContext, tagInGroup } from '@overlap/crypto';
import { type BlindTask, LabSession, type LabSessionOptions, type TagChunk } from '@overlap/protocol';

// The field arithmetic and tag makers are the protocol tests' malicious-lab harness: one copy.
import { P, toInt } from '../../../protocol/test/session.cheating-lab.js';

export { freshTag, inverseTag, mapTags, P } from '../../../protocol/test/session.cheating-lab.js';

/** A canonical tag that is not low-order and not in G (a random field element, retried until so). */
export function tagOutsideG(): Uint8Array {
  for (;;) {
    const bytes = globalThis.crypto.getRandomValues(new Uint8Array(32));
    bytes[31] = (bytes[31] as number) & 0x7f;
    const u = toInt(bytes);
    if (u > 1n && u < P - 1n && !tagInGroup(bytes)) return bytes;
  }
}

type Make = (options: LabSessionOptions) => LabSession;

/** `createLab` for runEngineSession: lab `name` is built by `make`, the others are honest. */
export function cheat(name: string, make: Make) {
  return (options: LabSessionOptions, labName: string): LabSession =>
    labName === name ? make(options) : new LabSession(options);
}

/** A lab whose blind results are `change(honest output, task)` for the tasks `when` selects. */
export function blindingAs(
  change: (honest: Uint8Array, task: BlindTask) => Uint8Array,
  when: (task: BlindTask) => boolean = () => true,
): Make {
  return (options) =>
    new (class extends LabSession {
      protected override async blindChunk(task: BlindTask): Promise<Uint8Array> {
        const honest = await super.blindChunk(task);
        return when(task) ? change(honest, task) : honest;
      }
    })(options);
}

/** A lab whose own upload (hop 0) is `change(chunk)`. */
export function uploadingAs(change: (chunk: TagChunk) => TagChunk): Make {
  return (options) =>
    new (class extends LabSession {
      protected override ownChunk(chunk: TagChunk): TagChunk {
        return change(chunk);
      }
    })(options);
}

/** A lab that commits to `commit(honest)` in its join. */
export function committingAs(
  commit: (honest: { key: Uint8Array; coin: Uint8Array }) => { key: Uint8Array; coin: Uint8Array },
): Make {
  return (options) =>
    new (class extends LabSession {
      protected override commitments(): { key: Uint8Array; coin: Uint8Array } {
        return commit(super.commitments());
      }
    })(options);
}

/** A lab that reveals `coin()` (undefined: nothing) instead of its committed coin. */
export function revealingAs(coin: () => Uint8Array | undefined): Make {
  return (options) =>
    new (class extends LabSession {
      protected override revealCoin(): Uint8Array | undefined {
        return coin();
      }
    })(options);
}

/** A lab whose proofs are `prove(context, positions, inputs, honest prover)`. */
export function provingAs(
  prove: (
    context: HopProofContext,
    positions: number[],
    inputs: Uint8Array[],
    honest: (c: HopProofContext, p: number[], i: Uint8Array[]) => HopProof,
  ) => HopProof,
): Make {
  return (options) =>
    new (class extends LabSession {
      protected override proveChunk(context: HopProofContext, positions: number[], inputs: Uint8Array[]): HopProof {
        return prove(context, positions, inputs, (c, p, i) => super.proveChunk(c, p, i));
      }
    })(options);
}
