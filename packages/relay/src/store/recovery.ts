/**
 * Start-up: rebuild everything the relay holds in memory from what it committed — the Merkle tree
 * (from the stored leaf hashes, checked against the last signed checkpoint), membership, every
 * sender's chain, and every session's engine (by replaying its envelopes in log order: the labs'
 * reveals and hop proofs too, each proof verified again, so a session rebuilt mid-proof-round goes on
 * where it was; the relay's own proof requests and challenges are recognised, not re-sent). Nothing is
 * trusted that the log does not say; a database whose tree disagrees with its own checkpoint is
 * refused (run `overlap relay fsck`).
 */
import { equalBytes, toHex } from '@overlap/crypto';
import { MerkleTree } from '@overlap/log';
import { openEnvelope, parseMessage, sessionDeadlines } from '@overlap/protocol';
import { RelayError } from '../errors.js';
import { HostedSession } from '../hosted-session.js';
import type { Membership } from '../membership.js';
import type { RelayCore } from '../relay.js';
import type { BlobFiles } from './blob-files.js';
import type { Db } from './database.js';

export interface StoredEntry {
  idx: number;
  leaf_hash: Buffer;
  hash: Buffer;
  length: number;
  inline: Buffer | null;
  type: string;
  sender: string;
  session: Buffer;
  seq: number;
}

/** The tree over every stored leaf, checked against the latest stored checkpoint. */
export function loadTree(db: Db): MerkleTree {
  const tree = new MerkleTree();
  let expected = 0;
  for (const row of db.prepare('SELECT idx, leaf_hash FROM entries ORDER BY idx').iterate() as Iterable<{
    idx: number;
    leaf_hash: Buffer;
  }>) {
    if (row.idx !== expected) throw new RelayError('STORAGE_CORRUPT', `log entry ${expected} is missing`);
    tree.append(row.leaf_hash);
    expected++;
  }
  const last = db.prepare('SELECT size, root FROM checkpoints ORDER BY size DESC LIMIT 1').get() as
    | { size: number; root: Buffer }
    | undefined;
  if (last && (last.size !== tree.size || !equalBytes(tree.root(last.size), last.root))) {
    throw new RelayError(
      'STORAGE_CORRUPT',
      `the stored entries (${tree.size}) do not match the last signed checkpoint (${last.size}); run overlap relay fsck`,
    );
  }
  return tree;
}

export async function readEntryBytes(
  blobs: BlobFiles,
  row: Pick<StoredEntry, 'inline' | 'hash'>,
  verify = true,
): Promise<Uint8Array> {
  if (row.inline) return new Uint8Array(row.inline.buffer, row.inline.byteOffset, row.inline.length);
  return blobs.read(toHex(row.hash), verify);
}

/** Replays the log into `core`: membership, chains, sessions. */
export async function replayLog(core: RelayCore, db: Db, blobs: BlobFiles, membership: Membership): Promise<void> {
  const deadlines = new Map<string, { proposal: number; deadline: number }>();
  for (const row of db.prepare('SELECT id, proposal, deadline FROM sessions').all() as {
    id: Buffer;
    proposal: number;
    deadline: number;
  }[]) {
    deadlines.set(toHex(row.id), row);
  }
  const rows = db
    .prepare('SELECT idx, hash, length, inline, type, sender, session, seq FROM entries ORDER BY idx')
    .all() as StoredEntry[];
  for (const row of rows) {
    const bytes = await readEntryBytes(blobs, row).catch((cause) => {
      throw new RelayError(
        'STORAGE_CORRUPT',
        `log entry ${row.idx} (${row.type} from ${row.sender}): ${(cause as Error).message}; run overlap relay fsck, which says what to do`,
        { cause },
      );
    });
    // Signatures were checked on the way in; opening again also proves the stored bytes intact.
    const opened = openEnvelope(bytes, core.publicKeyOf);
    const sessionHex = toHex(opened.header.session);
    core.chains.set(`${sessionHex}|${opened.header.sender}`, { seq: opened.header.seq, hash: opened.hash });
    if (row.type === 'enrollment' || row.type === 'revocation') {
      membership.apply(opened, row.idx);
      continue;
    }
    if (row.type === 'session_proposal') {
      const stored = deadlines.get(sessionHex);
      if (!stored) throw new RelayError('STORAGE_CORRUPT', `session ${sessionHex} has no session row`);
      const proposal = parseMessage('session_proposal', opened.payload);
      const session = new HostedSession(
        opened.header.session,
        row.idx,
        opened.header.sender,
        bytes,
        proposal,
        { joinBy: sessionDeadlines(proposal, opened.header.created).joinBy, deadline: stored.deadline },
        core.readEnvelope,
      );
      core.sessions.set(sessionHex, session);
      continue;
    }
    const session = core.sessions.get(sessionHex);
    if (!session) throw new RelayError('STORAGE_CORRUPT', `entry ${row.idx} belongs to unknown session ${sessionHex}`);
    core.replay(session, opened);
  }
  for (const session of core.sessions.values()) {
    session.showNow();
    core.scheduleDeadline(session);
  }
}
