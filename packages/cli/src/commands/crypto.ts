/**
 * `overlap crypto hash|blind`: the ciphersuite as a line filter, so that implementers in other
 * languages can check their hash_to_group and blind against this one (spec/ciphersuite.md).
 *
 *   overlap crypto hash --kind email [--json] < values.txt   one canonical value per line -> u (hex)
 *   overlap crypto blind --key HEX [--json]   < points.txt   one u (lowercase hex) per line -> X25519(key, u)
 *
 * `--json` prints one JSON object instead of the lines, written as the results come:
 * `{"kind":K,"hashes":[HEX,…]}` and `{"blinded":[HEX,…]}`, the results in input order; after a bad
 * line it still closes, with the results before it and `"error":{"line":N,"message":M}` (the
 * message said on stderr too).
 *
 * `--kind` must be one of the kinds of spec/indicators.md (a typo is a usage error listing them,
 * never a hash under a kind no lab uses). Both stream: input is read as it comes and results are written in input order, computed on every
 * core. A bad line stops the run with an error naming its line number (exit 65), after the result
 * of every line before it has been written (spec/ciphersuite.md §8): the lines of the failing batch
 * that came before the bad one are computed again, one at a time.
 */
import {
  BlindingKey,
  blind,
  blindBatch,
  CryptoError,
  fromHex,
  hashToGroup,
  hashToGroupBatch,
  toHex,
} from '@overlap/crypto';
import '@overlap/crypto/node'; // the filter runs on the native backend and every core
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { LineWriter, type NumberedLine, numberedLines, type ProgramIo } from '../io.js';

/**
 * The kind names of spec/indicators.md, as @overlap/indicators' INDICATOR_KIND_NAMES (a test keeps
 * the two equal). Repeated here because importing that package loads the phone metadata and the
 * suffix list, which this filter never needs (program.ts loads each command's modules lazily).
 */
export const HASHABLE_KINDS: readonly string[] = [
  'email',
  'phone',
  'ip',
  'ip_prefix',
  'domain',
  'registrable_domain',
  'url',
  'account',
  'payment_fingerprint',
  'crypto_wallet',
  'asn',
  'ja4',
  'ja4h',
  // A prompt_template value on the wire is a band (`jj:` and 16 hex digits, spec/indicators.md §2),
  // not the prompt: give this filter band values to check hash_to_group on that kind.
  'prompt_template',
];

export function addCryptoCommands(program: Command, io: ProgramIo): void {
  const crypto = program.command('crypto');

  crypto
    .command('hash')
    .description('read canonical values, one per line, on stdin; print hash_to_group(kind, value) as lowercase hex')
    .requiredOption('--kind <kind>', `indicator kind the values belong to: ${HASHABLE_KINDS.join(', ')}`)
    .option('--json', 'print one JSON object: {kind, hashes: [hex, …]}')
    .action(async (options: { kind: string; json?: boolean }) => {
      if (!HASHABLE_KINDS.includes(options.kind)) {
        throw new CliError(
          'USAGE',
          `--kind ${JSON.stringify(options.kind)} is not an indicator kind; known kinds: ${HASHABLE_KINDS.join(', ')}`,
        );
      }
      const lines = numberedLines(requireStdin(io));
      const items = new MappedLines(lines, (line) => ({ kind: options.kind, value: line.text }));
      const sink = options.json ? jsonSink(io, { kind: options.kind }, 'hashes') : lineSink(io);
      await writeResults(sink, hashToGroupBatch(items.source), items, (item) => hashToGroup(item.kind, item.value));
    });

  crypto
    .command('blind')
    .description('read u-coordinates (64 lowercase hex digits), one per line, on stdin; print X25519(key, u)')
    .requiredOption('--key <hex>', 'the 32-byte blinding key as 64 lowercase hex digits (a test key: it shows in ps)')
    .option('--json', 'print one JSON object: {blinded: [hex, …]}')
    .action(async (options: { key: string; json?: boolean }) => {
      let key: BlindingKey;
      try {
        key = BlindingKey.fromBytes(fromHex(options.key, 32));
      } catch (cause) {
        throw new CliError('USAGE', '--key must be 64 lowercase hex digits (32 bytes)', { cause });
      }
      try {
        const lines = numberedLines(requireStdin(io));
        const points = new MappedLines(lines, (line) => {
          try {
            return fromHex(line.text, 32);
          } catch (cause) {
            throw new CliError('DATA', `line ${line.number}: expected 64 lowercase hex digits`, { cause });
          }
        });
        const sink = options.json ? jsonSink(io, {}, 'blinded') : lineSink(io);
        await writeResults(sink, blindBatch(key, points.source), points, (u) => blind(key, u));
      } finally {
        key.dispose();
      }
    });
}

function requireStdin(io: ProgramIo) {
  if (!io.stdin) throw new CliError('USAGE', 'this command reads standard input');
  return io.stdin;
}

/** Line i + 1 is item i. The items read but not yet written are kept, to finish them after an error. */
class MappedLines<T> {
  /** Items handed to the batch and not yet written, by index. */
  readonly pending = new Map<number, T>();
  /** Line number of the first line that could not be mapped, once there is one. */
  failedLine: number | undefined;
  readonly source: AsyncGenerator<T>;

  constructor(lines: AsyncIterable<NumberedLine>, map: (line: NumberedLine) => T) {
    this.source = this.#items(lines, map);
  }

  async *#items(lines: AsyncIterable<NumberedLine>, map: (line: NumberedLine) => T): AsyncGenerator<T> {
    for await (const line of lines) {
      let item: T;
      try {
        item = map(line);
      } catch (error) {
        this.failedLine = line.number;
        throw error;
      }
      this.pending.set(line.number - 1, item);
      yield item;
    }
  }
}

/** Where the results go, in order: lines, or one JSON object; `finish` ends it (after an error too). */
interface ResultSink {
  add(hex: string): Promise<void>;
  finish(error?: { line: number | undefined; message: string }): Promise<void>;
}

function lineSink(io: ProgramIo): ResultSink {
  const writer = new LineWriter(io.out);
  return { add: (hex) => writer.line(hex), finish: () => writer.flush() };
}

/** `{...head, field: [hex, …]}` on one line, written in blocks as the results come. */
function jsonSink(io: ProgramIo, head: Record<string, string>, field: string): ResultSink {
  const opening = `${JSON.stringify(head).slice(0, -1)}${Object.keys(head).length > 0 ? ',' : ''}${JSON.stringify(field)}:[`;
  let pending: string[] = [opening];
  let count = 0;
  return {
    add: async (hex) => {
      pending.push(`${count++ === 0 ? '' : ','}"${hex}"`);
      if (pending.length >= 1024) {
        const block = pending.join('');
        pending = [];
        await io.out(block);
      }
    },
    finish: async (error) => {
      const failed =
        error === undefined
          ? ''
          : `,"error":${JSON.stringify({ ...(error.line !== undefined && { line: error.line }), message: error.message })}`;
      await io.out(`${pending.join('')}]${failed}}\n`);
      pending = [];
    },
  };
}

/**
 * Writes each result, in order. On an error naming an item (the batch's `details.index`) or a
 * line the mapping refused, the items before it that the batch had not given back yet are computed
 * with `single` and written first, so the output holds every result before the bad line.
 */
async function writeResults<T>(
  sink: ResultSink,
  results: AsyncIterable<Uint8Array>,
  items: MappedLines<T>,
  single: (item: T) => Uint8Array,
) {
  let written = 0;
  try {
    for await (const result of results) {
      items.pending.delete(written++);
      await sink.add(toHex(result));
    }
  } catch (error) {
    // A batch names the failing item in `details.index`; the mapping records the line it refused.
    const batchIndex = error instanceof CryptoError ? error.details?.index : undefined;
    const failedIndex = batchIndex ?? (items.failedLine === undefined ? undefined : items.failedLine - 1);
    if (failedIndex !== undefined) {
      for (let index = written; index < failedIndex; index++) {
        const item = items.pending.get(index);
        if (item === undefined) break;
        await sink.add(toHex(single(item)));
      }
    }
    let thrown = error;
    if (error instanceof CryptoError) {
      // Batch errors say "item N: …"; a person wants the line number.
      const detail =
        batchIndex === undefined
          ? error.message
          : `line ${batchIndex + 1}: ${error.message.replace(/^item \d+: /, '')}`;
      thrown = new CliError('DATA', `${detail} (${error.code})`, { cause: error });
    }
    const line = failedIndex === undefined ? undefined : failedIndex + 1;
    await sink.finish({ line, message: thrown instanceof Error ? thrown.message : String(thrown) });
    throw thrown;
  }
  await sink.finish();
}
