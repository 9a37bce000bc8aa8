/**
 * A lab's check of where a blind task's tags came from (spec/protocol.md §5, "Lab"): the task's
 * `source` must be an envelope of this session, signed by the previous hop's lab, of the right
 * type, carrying exactly these tags at the same place of the same set.
 *
 * Threat: a relay that asks labs to blind guesses of its own (a dictionary attack through the
 * labs' keys). With the check, a lab blinds only tags the owner or the previous hop really sent.
 */
import { equalBytes } from '@overlap/crypto';
import { openEnvelope } from '../envelope.js';
import { parseWithSchema } from '../validate.js';
import { type BlindTask, type TagChunk, tagChunkSchema } from './messages.js';

/** Why the task's tags did not provably come from `previousLab`, or undefined if they did. */
export function provenanceProblem(
  task: BlindTask,
  previousLab: string,
  sessionId: Uint8Array,
  publicKeyOf: (keyId: string) => Uint8Array | undefined,
): string | undefined {
  let source: ReturnType<typeof openEnvelope>;
  try {
    // The source comes from the relay: it is opened like any envelope from the network.
    source = openEnvelope(task.source, publicKeyOf);
  } catch (error) {
    return `its source envelope does not open (${(error as Error).message})`;
  }
  const { header } = source;
  const expectedType = task.hop === 1 ? 'tag_chunk' : 'blind_result';
  if (!equalBytes(header.session, sessionId)) return 'its source is from another session';
  if (header.sender !== previousLab)
    return `its source is signed by ${header.sender}, not by the previous hop ${previousLab}`;
  if (header.type !== expectedType) return `its source is a ${header.type}, not a ${expectedType}`;
  let chunk: TagChunk;
  try {
    chunk = parseWithSchema(tagChunkSchema, source.payload, 'source chunk');
  } catch {
    return 'its source does not carry a tag chunk';
  }
  if (
    chunk.kind !== task.kind ||
    chunk.owner !== task.owner ||
    chunk.first !== task.first ||
    chunk.hop !== task.hop - 1
  ) {
    return 'its source is another part of the exchange';
  }
  if (!equalBytes(chunk.tags, task.tags)) return 'its tags are not the tags its source carries';
  return undefined;
}
