/**
 * The hop-0 chunks that arrive before a session's last join are held by place only (spec/relay-api.md
 * §5): the relay engine keeps neither their tags nor their envelopes, and reads both back from its
 * archive (the relay's is its store) when the last join lets it send them on. Checked with an
 * archive that hands back copies: the blind tasks carry the archive's bytes, not the ones the engine
 * was given; and an archive that keeps no envelopes is refused with a clear error at release.
 */
import { BlindingKey, hashToGroup, keyCommitment } from '@overlap/crypto';
import { describe, expect, test } from 'vitest';
import { type ChunkPlace, packTags, placeKey, RelaySession, type TagArchive } from '../src/index.js';
import { labIds } from './session.helpers.js';

const [a, b] = labIds(2) as [string, string];
const proposal = { labs: [a, b], kinds: ['email'], policy: { kind: 'labs' }, maxItemsPerKind: 4096, chunkSize: 1024 };
const join = () => ({
  type: 'join' as const,
  body: { sizes: { email: 2048 }, key: keyCommitment(BlindingKey.generate()), coin: new Uint8Array(32).fill(1) },
});
const upload = (first: number) => ({
  type: 'tag_chunk' as const,
  body: {
    kind: 'email',
    owner: a,
    hop: 0,
    first,
    tags: packTags(Array.from({ length: 1024 }, (_, i) => hashToGroup('email', `${first + i}@x`))),
  },
});

/** An archive that stores copies (as a store on disk would) and counts what is read back. */
class CopyingArchive implements TagArchive {
  readonly tags = new Map<string, Uint8Array>();
  readonly sources = new Map<string, Uint8Array>();
  reads = 0;
  put(place: ChunkPlace, tags: Uint8Array, source?: Uint8Array): void {
    this.tags.set(placeKey(place), Uint8Array.from(tags));
    if (source) this.sources.set(placeKey(place), Uint8Array.from(source));
  }
  get(place: ChunkPlace): Uint8Array {
    this.reads++;
    return this.tags.get(placeKey(place)) as Uint8Array;
  }
  source(place: ChunkPlace): Uint8Array {
    return this.sources.get(placeKey(place)) as Uint8Array;
  }
}

describe('held chunks', () => {
  test('are sent on from the archive at the last join, not from what the engine was given', () => {
    const archive = new CopyingArchive();
    const relay = new RelaySession(proposal, { sessionId: new Uint8Array(16).fill(3), archive });
    relay.receive(a, join());
    const given = [0, 1024].map((first) => ({ bytes: new Uint8Array([0xa0, first >> 8]), digest: new Uint8Array(32) }));
    for (const [i, first] of [0, 1024].entries()) {
      expect(relay.receive(a, upload(first), given[i])).toEqual([]);
    }
    // Only a hop-0 chunk that waits has its envelope kept, by the archive.
    expect([...archive.sources.keys()]).toEqual([`${a}|email|0|0`, `${a}|email|0|1024`]);
    const reads = archive.reads;
    const tasks = relay.receive(b, join()).filter((o) => o.message.type === 'blind_task');
    expect(tasks).toHaveLength(2);
    expect(archive.reads).toBe(reads + 2);
    for (const [i, task] of tasks.entries()) {
      const body = task.message.body as { source: Uint8Array; tags: Uint8Array; first: number };
      const key = `${a}|email|0|${body.first}`;
      expect(body.source).toBe(archive.sources.get(key));
      expect(body.source).not.toBe(given[i]?.bytes);
      expect(body.source).toEqual(given[i]?.bytes);
      expect(body.tags).toBe(archive.tags.get(key));
    }
  });

  test('an archive that keeps no envelopes is refused at release, naming the place', () => {
    const tagsOnly: TagArchive = { put: () => {}, get: () => new Uint8Array(1024 * 32) };
    const relay = new RelaySession(proposal, { sessionId: new Uint8Array(16).fill(4), archive: tagsOnly });
    relay.receive(a, join());
    relay.receive(a, upload(0), { bytes: new Uint8Array([0xa0]), digest: new Uint8Array(32) });
    expect(() => relay.receive(b, join())).toThrow(new RegExp(`keeps no envelope for ${a}\\|email\\|0\\|0`));
  });

  test('a read that fails at the last join changes nothing: the same join is taken again once the archive reads', () => {
    const archive = new CopyingArchive();
    let failing = true;
    const flaky: TagArchive = {
      put: (place, tags, source) => archive.put(place, tags, source),
      get: (place) => {
        if (failing) throw new Error('the store cannot read this blob');
        return archive.get(place);
      },
      source: (place) => archive.source(place),
    };
    const relay = new RelaySession(proposal, { sessionId: new Uint8Array(16).fill(5), archive: flaky });
    relay.receive(a, join());
    relay.receive(a, upload(0), { bytes: new Uint8Array([0xa0]), digest: new Uint8Array(32) });
    const last = join();
    expect(() => relay.receive(b, last)).toThrow(/cannot read this blob/);
    expect(relay.state).toBe('joining');
    expect(relay.waitingOn()).toContain(b);
    failing = false;
    const tasks = relay.receive(b, last).filter((o) => o.message.type === 'blind_task');
    expect(tasks).toHaveLength(1);
    expect(relay.state).toBe('exchanging');
  });
});
