/**
 * Readings of indicator files started before they were asked for (indicator-input.ts,
 * `prefetchIndicatorFile`), kept until the one `readIndicatorFile` call that asks for the same file
 * with the same options takes its reading. A reading is taken only if the file is still the one it
 * began on: same device, inode, size and modification time as when the reading started; otherwise
 * it is dropped and the file read again. Each reading is taken at most once.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';

interface Kept<T> {
  stamp: Promise<string | undefined>;
  reading: Promise<T>;
}

const kept = new Map<string, Kept<unknown>>();

/** What names a reading: the absolute path and every option that changes what is read. */
export function readingKey(path: string, options: Record<string, unknown>): string {
  const named = Object.keys(options)
    .filter((name) => options[name] !== undefined)
    .sort()
    .map((name) => [name, options[name]]);
  return JSON.stringify([resolve(path), named]);
}

/** The file's identity now, or undefined when it cannot be stat-ed (the reading reports why). */
export async function fileStamp(path: string): Promise<string | undefined> {
  try {
    const s = await stat(path, { bigint: true });
    return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch {
    return undefined;
  }
}

export function keep<T>(key: string, stamp: Promise<string | undefined>, reading: Promise<T>): void {
  reading.catch(() => {}); // reported to whoever takes it
  kept.set(key, { stamp, reading });
}

/** The reading kept under `key` if the file is unchanged since it began; dropped either way. */
export async function take<T>(key: string, path: string): Promise<Promise<T> | undefined> {
  const found = kept.get(key);
  if (found === undefined) return undefined;
  kept.delete(key);
  const [then, now] = await Promise.all([found.stamp, fileStamp(path)]);
  return now !== undefined && now === then ? (found.reading as Promise<T>) : undefined;
}
