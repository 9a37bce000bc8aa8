/**
 * `overlap relay fsck`: checks a relay's stored state without trusting any derived value. It
 * recomputes every envelope's hashes from its bytes (inline or blob file), rebuilds the Merkle tree,
 * checks every stored checkpoint against the tree and the relay's key, requires indices to be
 * contiguous, every envelope to open under its sender's key with an unbroken per-sender chain, and
 * every inbox item to point at an entry. It only reads (the relay must be stopped: it holds the
 * database's lock while it runs).
 *
 * A damaged or missing envelope is one finding, naming its entry (index, type, sender, session)
 * and what an operator can do: the tree goes on with the leaf hash recorded for it, so the
 * checkpoints after it are still checked against the rest rather than all reported as broken.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { equalBytes, fromHex, keyId, toHex } from '@overlap/crypto';
import { ed25519NoteVerifier, leafHash, MerkleTree, parseCheckpoint, verifySignedNote } from '@overlap/log';
import { type ChainState, checkChain, openEnvelope } from '@overlap/protocol';
import { Membership } from '../membership.js';
import { homePaths } from '../relay-home.js';
import { isTemporaryBlob } from './blob-files.js';
import { getMeta, openDatabase } from './database.js';
import type { StoredEntry } from './recovery.js';

export interface FsckReport {
  entries: number;
  checkpoints: number;
  blobs: number;
  /** Problems: any one makes fsck fail. */
  findings: string[];
  /** Harmless leftovers worth knowing about (unreferenced blob files and temporary files of an interrupted write). */
  notes: string[];
}

export interface FsckProgress {
  checked: number;
  total: number;
}

export function fsckRelay(dbPath?: string, onProgress?: (p: FsckProgress) => void): FsckReport {
  const paths = homePaths(dbPath);
  const db = openDatabase(paths.db);
  const findings: string[] = [];
  const notes: string[] = [];
  try {
    const origin = getMeta(db, 'origin');
    const relayKeyHex = getMeta(db, 'relay_key');
    const adminHex = getMeta(db, 'admin_key');
    if (!origin || !relayKeyHex || !adminHex) {
      return {
        entries: 0,
        checkpoints: 0,
        blobs: 0,
        findings: ['the database lacks its origin or keys (meta)'],
        notes,
      };
    }
    const relayKey = fromHex(relayKeyHex);
    const membership = new Membership(fromHex(adminHex));
    const publicKeyOf = (id: string) =>
      id === membership.adminKeyId
        ? membership.adminKey
        : id === keyId(relayKey)
          ? relayKey
          : membership.signingKeyOf(id);
    const total = db.prepare('SELECT count(*) FROM entries').pluck().get() as number;
    const tree = new MerkleTree();
    const chains = new Map<string, ChainState>();
    const referenced = new Set<string>();
    let expected = 0;
    const rows = db
      .prepare('SELECT idx, leaf_hash, hash, length, inline, type, sender, session, seq FROM entries ORDER BY idx')
      .iterate() as Iterable<StoredEntry>;
    for (const row of rows) {
      const at = `entry ${row.idx}`;
      const which = `entry ${row.idx} (${row.type} from ${row.sender}, session ${toHex(row.session)})`;
      if (row.idx !== expected) {
        findings.push(`entries are not contiguous: ${row.idx} follows ${expected - 1}`);
        expected = row.idx;
      }
      expected++;
      let bytes: Uint8Array | undefined = row.inline ?? undefined;
      if (!bytes) {
        const file = join(paths.blobs, toHex(row.hash).slice(0, 2), toHex(row.hash));
        referenced.add(toHex(row.hash));
        try {
          bytes = new Uint8Array(readFileSync(file));
        } catch {
          findings.push(`${which}: blob file ${file} is missing; ${RESTORE}`);
        }
      }
      if (bytes && !equalBytes(createHash('sha256').update(bytes).digest(), row.hash)) {
        const stored = bytes.length === row.length ? '' : `, ${bytes.length} bytes stored, ${row.length} recorded`;
        const where = row.inline ? 'the envelope stored in the database' : `blob file ${toHex(row.hash)}`;
        findings.push(`${which}: the stored bytes do not match their hash (${where}${stored}); ${RESTORE}`);
        bytes = undefined;
      } else if (bytes && bytes.length !== row.length) {
        // The envelope is intact; its row is not (the relay bounds inbox answers by it).
        findings.push(`${which}: ${row.length} bytes recorded, ${bytes.length} stored (the envelope matches its hash)`);
      }
      // Bytes that are not the entry's (or none): the tree goes on with the recorded leaf hash.
      const recomputedLeaf = bytes ? leafHash(bytes) : Uint8Array.from(row.leaf_hash);
      tree.append(recomputedLeaf);
      if (!bytes) continue;
      if (!equalBytes(recomputedLeaf, row.leaf_hash)) findings.push(`${at}: the recorded leaf hash is wrong`);
      try {
        const opened = openEnvelope(bytes, publicKeyOf);
        const key = `${toHex(opened.header.session)}|${opened.header.sender}`;
        try {
          checkChain(chains.get(key), opened);
        } catch (error) {
          findings.push(`${at}: ${(error as Error).message}`);
        }
        // Follow the envelope as stored either way, so one break is reported once.
        chains.set(key, { seq: opened.header.seq, hash: opened.hash });
        if (opened.header.type !== row.type || opened.header.sender !== row.sender || opened.header.seq !== row.seq) {
          findings.push(`${at}: the recorded type, sender or seq differ from the envelope's`);
        }
        if (row.type === 'enrollment' || row.type === 'revocation') {
          const problem = membership.problem(opened);
          if (problem) findings.push(`${at}: ${problem}`);
          else membership.apply(opened, row.idx);
        }
      } catch (error) {
        findings.push(`${at}: the envelope does not open: ${(error as Error).message}`);
      }
      if (row.idx % 256 === 0) onProgress?.({ checked: row.idx, total });
    }
    const verifier = ed25519NoteVerifier(origin, relayKey);
    const checkpoints = db.prepare('SELECT size, root, note FROM checkpoints ORDER BY size').all() as {
      size: number;
      root: Buffer;
      note: string;
    }[];
    for (const checkpoint of checkpoints) {
      const at = `checkpoint ${checkpoint.size}`;
      if (checkpoint.size > tree.size) {
        findings.push(`${at}: covers more entries than are stored (${tree.size})`);
        continue;
      }
      const root = tree.root(checkpoint.size);
      if (!equalBytes(root, checkpoint.root)) findings.push(`${at}: its root is not the root of the stored entries`);
      try {
        const { text } = verifySignedNote(checkpoint.note, [verifier]);
        const parsed = parseCheckpoint(text);
        if (parsed.origin !== origin || parsed.size !== checkpoint.size || !equalBytes(parsed.rootHash, root)) {
          findings.push(`${at}: the signed note says ${parsed.origin} ${parsed.size}, not this tree`);
        }
      } catch (error) {
        findings.push(`${at}: the signed note does not verify: ${(error as Error).message}`);
      }
    }
    if (tree.size > 0 && (checkpoints.at(-1)?.size ?? 0) !== tree.size) {
      findings.push(`entries ${checkpoints.at(-1)?.size ?? 0}..${tree.size - 1} are not covered by any checkpoint`);
    }
    const dangling = db
      .prepare('SELECT count(*) FROM inbox i LEFT JOIN entries e ON e.idx = i.entry WHERE e.idx IS NULL')
      .pluck()
      .get() as number;
    if (dangling > 0) findings.push(`${dangling} inbox items point at no entry`);
    const { blobs, temporaries } = listBlobs(paths.blobs);
    for (const name of blobs)
      if (!referenced.has(name)) notes.push(`blob ${name} is not referenced (an interrupted write)`);
    for (const file of temporaries)
      notes.push(`temporary file ${file} is left from an interrupted write (the relay removes it when it starts)`);
    onProgress?.({ checked: total, total });
    return { entries: tree.size, checkpoints: checkpoints.length, blobs: referenced.size, findings, notes };
  } finally {
    db.close();
  }
}

/** What an operator can do about a damaged or missing envelope. */
const RESTORE =
  'restore it from a backup (overlap relay backup), or ask its sender for the envelope: a lab keeps what it sent until it has the receipt';

/** The blob files (by hash) and the temporary files of interrupted writes (paths) under `root`. */
function listBlobs(root: string): { blobs: string[]; temporaries: string[] } {
  const blobs: string[] = [];
  const temporaries: string[] = [];
  let dirs: string[];
  try {
    dirs = readdirSync(root);
  } catch {
    return { blobs, temporaries };
  }
  for (const dir of dirs) {
    const path = join(root, dir);
    if (!statSync(path).isDirectory()) continue;
    for (const name of readdirSync(path)) {
      if (/^[0-9a-f]{64}$/.test(name)) blobs.push(name);
      else if (isTemporaryBlob(name)) temporaries.push(join(path, name));
    }
  }
  return { blobs, temporaries };
}
