/**
 * A key file's passphrase: from `$OVERLAP_KEY_PASSPHRASE` (for services and scripts; an empty value
 * means "no passphrase"), else typed at the terminal without echo. Without a terminal and without
 * the variable there is no way to ask, and the error says which variable to set.
 */
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
  const first = await readHidden(terminal, `${prompt}: `);
  if (options.confirm) {
    const again = await readHidden(terminal, 'again: ');
    if (again !== first) throw new CliError('USAGE', 'the two passphrases differ; nothing was written');
  }
  if (first === '') throw new CliError('USAGE', 'an empty passphrase; nothing was written');
  return first;
}

function readHidden(terminal: NonNullable<PassphraseSource['terminal']>, prompt: string): Promise<string> {
  const { input, output } = terminal;
  return new Promise((resolve, reject) => {
    let typed = '';
    // Echo off before the prompt shows: text typed as soon as it appears is never echoed.
    const wasRaw = input.isRaw;
    input.setRawMode(true);
    output.write(prompt);
    input.resume();
    const done = (error?: Error) => {
      input.setRawMode(wasRaw);
      input.pause();
      input.off('data', onData);
      output.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n') return done();
        if (char === '\u0003') return done(new CliError('USAGE', 'interrupted; nothing was written'));
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    input.on('data', onData);
  });
}
