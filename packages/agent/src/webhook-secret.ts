/**
 * The webhook's HMAC key, from where the config says (agent-config.ts): an environment variable
 * or a file (0600, beside the lab's key), as 64 or more hex digits or as text of at least 32
 * bytes. The config file itself never holds it. Errors name the variable or the file, never the
 * key; the caller zeroes the answer once the delivery is signed.
 */
import { readFile } from 'node:fs/promises';
import type { ResultsConfig } from './agent-config.js';
import { AgentError } from './errors.js';

export async function readWebhookSecret(
  webhook: NonNullable<ResultsConfig['webhook']>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Uint8Array> {
  let text: string;
  if ('env' in webhook.secret) {
    const value = env[webhook.secret.env];
    if (value === undefined || value === '') {
      throw new AgentError(
        'BAD_CONFIG',
        `agent.results.webhook: $${webhook.secret.env} is not set (the webhook's HMAC key)`,
      );
    }
    text = value;
  } else {
    try {
      text = (await readFile(webhook.secret.file, 'utf8')).trim();
    } catch (cause) {
      const reason = (cause as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new AgentError(
        'BAD_CONFIG',
        `agent.results.webhook.secret_file ${webhook.secret.file}: cannot be read (${reason})`,
        {
          cause,
        },
      );
    }
  }
  const bytes = /^(?:[0-9a-f]{2}){32,}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'utf8');
  if (bytes.length < 32) {
    bytes.fill(0);
    throw new AgentError(
      'BAD_CONFIG',
      'agent.results.webhook: the HMAC key must be at least 32 bytes (or 64 hex digits)',
    );
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}
