/**
 * `overlap crypto hash|blind`: the ciphersuite as a line filter, so that implementers in other
 * languages can check their hash_to_group and blind against this one (spec/ciphersuite.md).
 *
 *   overlap crypto hash --kind email  < values.txt   one canonical value per line -> u (hex)
 *   overlap crypto blind --key HEX    < points.txt   one u (lowercase hex) per line -> X25519(key, u)
 *
 * Both stream: input is read as it comes and results are written in input order, computed on every
 * core. A bad line stops the run with an error naming its line number (exit 65).
 */
import { BlindingKey, blindBatch, CryptoError, fromHex, hashToGroupBatch, toHex } from '@overlap/crypto';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { LineWriter, type NumberedLine, numberedLines, type ProgramIo } from '../io.js';

export function addCryptoCommands(program: Command, io: ProgramIo): void {
  const crypto = program
    .command('crypto')
    .description('the OVERLAP-V1 ciphersuite as line filters, for interoperability checks');

  crypto
    .command('hash')
    .description('read canonical values, one per line, on stdin; print hash_to_group(kind, value) as lowercase hex')
    .requiredOption('--kind <kind>', 'indicator kind the values belong to (e.g. email)')
    .action(async (options: { kind: string }) => {
      const lines = numberedLines(requireStdin(io));
      const items = mapLines(lines, (line) => ({ kind: options.kind, value: line.text }));
      await writeResults(io, hashToGroupBatch(items.source), items.lineOf);
    });

  crypto
    .command('blind')
    .description('read u-coordinates (64 lowercase hex digits), one per line, on stdin; print X25519(key, u)')
    .requiredOption('--key <hex>', 'the 32-byte blinding key as 64 lowercase hex digits (a test key: it shows in ps)')
    .action(async (options: { key: string }) => {
      let key: BlindingKey;
      try {
        key = BlindingKey.fromBytes(fromHex(options.key, 32));
      } catch (cause) {
        throw new CliError('USAGE', '--key must be 64 lowercase hex digits (32 bytes)', { cause });
      }
      try {
        const lines = numberedLines(requireStdin(io));
        const points = mapLines(lines, (line) => {
          try {
            return fromHex(line.text, 32);
          } catch (cause) {
            throw new CliError('DATA', `line ${line.number}: expected 64 lowercase hex digits`, { cause });
          }
        });
        await writeResults(io, blindBatch(key, points.source), points.lineOf);
      } finally {
        key.dispose();
      }
    });
}

function requireStdin(io: ProgramIo) {
  if (!io.stdin) throw new CliError('USAGE', 'this command reads standard input');
  return io.stdin;
}

/** Maps numbered lines to batch items: every line is one item, so item i is line i + 1. */
function mapLines<T>(lines: AsyncIterable<NumberedLine>, map: (line: NumberedLine) => T) {
  async function* source(): AsyncGenerator<T> {
    for await (const line of lines) yield map(line);
  }
  return { source: source(), lineOf: (index: number) => index + 1 };
}

async function writeResults(io: ProgramIo, results: AsyncIterable<Uint8Array>, lineOf: (index: number) => number) {
  const writer = new LineWriter(io.out);
  try {
    for await (const result of results) await writer.line(toHex(result));
  } catch (error) {
    await writer.flush();
    if (error instanceof CryptoError) {
      // Batch errors say "item N: …"; a person wants the line number.
      const match = /^item (\d+): (.*)$/s.exec(error.message);
      const detail = match ? `line ${lineOf(Number(match[1]))}: ${match[2]}` : error.message;
      throw new CliError('DATA', `${detail} (${error.code})`, { cause: error });
    }
    throw error;
  }
  await writer.flush();
}
