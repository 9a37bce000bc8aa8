/**
 * A key file's passphrase: from `$OVERLAP_KEY_PASSPHRASE` (for services and scripts; an empty value
 * means "no passphrase"), else typed at the terminal without echo. Without a terminal and without
 * the variable there is no way to ask, and the error says which variable to set.
 */
import { StringDecoder } from 'node:string_decoder';
import { CliError } from './errors.js';

export const PASSPHRASE_ENV = 'OVERLAP_KEY_PASSPHRASE';

export interface PassphraseSource {
  env: NodeJS.ProcessEnv;
  /** The terminal to ask on, when there is one (stdin and stderr both TTYs). */
  terminal?: { input: NodeJS.ReadStream; output: NodeJS.WriteStream };
}

export function processPassphraseSource(): PassphraseSource {
  const terminal = process.stdin.isTTY === true && process.stderr.isTTY === true;
  return { env: process.env, ...(terminal && { terminal: { input: process.stdin, output: process.stderr } }) };
}

/** The passphrase from the environment, if set (an empty value is "none": the file is not encrypted). */
export function passphraseFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  const value = env[PASSPHRASE_ENV];
  return value === undefined || value === '' ? undefined : value;
}

/**
 * Asks for a passphrase on the terminal, without echo; `confirm` asks twice and requires the same
 * text. Refuses when there is no terminal, naming the environment variable.
 *
 * Keys as at a terminal: Enter ends the line; Ctrl-D ends it too, or, with nothing typed, ends the
 * input (a usage error, 64); Backspace erases a character, Ctrl-U the line; Ctrl-C stops the
 * command as an interrupt does (exit 130). The terminal closing at the prompt is a failure (1),
 * never a wait. The bytes are decoded as UTF-8 across reads, so a character split between two
 * reads arrives whole; what is typed after Enter is kept for the next prompt (`again:`).
 */
export async function askPassphrase(
  source: PassphraseSource,
  prompt: string,
  options: { confirm?: boolean } = {},
): Promise<string> {
  const terminal = source.terminal;
  if (!terminal) {
    throw new CliError('USAGE', `${prompt}: no terminal to ask on; set $${PASSPHRASE_ENV}`);
  }
  const keys: TypedKeys = { decoder: new StringDecoder('utf8'), ahead: [] };
  const first = await readHidden(terminal, `${prompt}: `, keys);
  if (options.confirm) {
    const again = await readHidden(terminal, 'again: ', keys);
    if (again !== first) throw new CliError('USAGE', 'the two passphrases differ; nothing was written');
  }
  if (first === '') throw new CliError('USAGE', 'an empty passphrase; nothing was written');
  return first;
}

/** What the terminal sent, decoded: kept from one prompt to the next. */
interface TypedKeys {
  decoder: StringDecoder;
  /** Characters typed after the last prompt's Enter. */
  ahead: string[];
}

const ENTER = new Set(['\r', '\n']);
const CTRL_C = '\u0003';
const CTRL_D = '\u0004';
const CTRL_U = '\u0015';
const ERASE = new Set(['\u007f', '\b']);

function readHidden(
  terminal: NonNullable<PassphraseSource['terminal']>,
  prompt: string,
  keys: TypedKeys,
): Promise<string> {
  const { input, output } = terminal;
  return new Promise((resolve, reject) => {
    // Code points, so that Backspace erases a whole character.
    let typed: string[] = [];
    let finished = false;
    // Echo off before the prompt shows: text typed as soon as it appears is never echoed.
    const wasRaw = input.isRaw;
    try {
      input.setRawMode(true);
    } catch (cause) {
      reject(new CliError('FAILURE', `cannot turn echo off on the terminal: ${(cause as Error).message}`, { cause }));
      return;
    }
    output.write(prompt);
    const done = (error?: Error) => {
      finished = true;
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      try {
        input.setRawMode(wasRaw);
      } catch {
        // The terminal is gone: there is no mode left to restore.
      }
      input.pause();
      output.write('\n');
      if (error) reject(error);
      else resolve(typed.join(''));
    };
    const onKeys = (chars: string[]) => {
      for (const [at, char] of chars.entries()) {
        if (finished) {
          keys.ahead.push(...chars.slice(at));
          return;
        }
        if (ENTER.has(char)) done();
        else if (char === CTRL_C) done(new CliError('INTERRUPTED', 'interrupted (Ctrl-C) at the passphrase prompt'));
        else if (char === CTRL_D && typed.length > 0) done();
        else if (char === CTRL_D)
          done(
            new CliError(
              'USAGE',
              `${prompt.replace(/: $/, '')}: the input ended (Ctrl-D) before a passphrase was typed`,
            ),
          );
        else if (ERASE.has(char)) typed = typed.slice(0, -1);
        else if (char === CTRL_U) typed = [];
        else typed.push(char);
      }
    };
    const onData = (chunk: Buffer) => onKeys([...keys.decoder.write(chunk)]);
    const onEnd = () => done(new CliError('FAILURE', 'the terminal closed at the passphrase prompt'));
    const onError = (error: NodeJS.ErrnoException) =>
      done(
        new CliError('FAILURE', `cannot read the passphrase from the terminal: ${error.code ?? error.message}`, {
          cause: error,
        }),
      );
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
    onKeys(keys.ahead.splice(0));
    if (finished) return;
    if (input.readableEnded || input.destroyed) onEnd();
    else input.resume();
  });
}
