/**
 * The relay's base URL as a lab configures it. Checked once, up front, so that a typo is a clear
 * error at start-up rather than a confusing network failure halfway through a session.
 */
import { ClientError } from './errors.js';

/** Parses a relay base URL: http or https, no credentials, query or fragment; no trailing slash. */
export function parseRelayUrl(input: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new ClientError('BAD_RELAY_URL', `relay URL ${JSON.stringify(input)} is not a URL`, { cause });
  }
  const problem =
    url.protocol !== 'http:' && url.protocol !== 'https:'
      ? `scheme must be http or https, got ${url.protocol.slice(0, -1)}`
      : url.username !== '' || url.password !== ''
        ? 'it must not carry credentials (labs authenticate by signing requests)'
        : url.search !== '' || url.hash !== ''
          ? 'it must not have a query or fragment'
          : undefined;
  if (problem !== undefined) {
    // The URL may carry a password: name the host only, never echo the input.
    throw new ClientError('BAD_RELAY_URL', `relay URL for host ${url.host || '(none)'}: ${problem}`);
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}
