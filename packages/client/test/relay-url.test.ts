import { describe, expect, test } from 'vitest';
import { ClientError, parseRelayUrl } from '../src/index.js';

describe('parseRelayUrl', () => {
  test.each([
    ['http://127.0.0.1:8787', 'http://127.0.0.1:8787/'],
    ['https://relay.example.org/', 'https://relay.example.org/'],
    ['https://forum.example.org/overlap//', 'https://forum.example.org/overlap'],
  ])('accepts %s', (input, href) => {
    expect(parseRelayUrl(input).href).toBe(href);
  });

  test.each([
    ['not a URL', 'relay.example.org'],
    ['another scheme', 'ftp://relay.example.org'],
    ['credentials', 'https://lab:hunter2@relay.example.org'],
    ['a query', 'https://relay.example.org/?x=1'],
    ['a fragment', 'https://relay.example.org/#top'],
  ])('rejects %s with BAD_RELAY_URL', (_label, input) => {
    expect(() => parseRelayUrl(input)).toThrow(ClientError);
    expect(() => parseRelayUrl(input)).toThrow(expect.objectContaining({ code: 'BAD_RELAY_URL' }));
  });

  test('never echoes a password in the error', () => {
    expect(() => parseRelayUrl('https://lab:hunter2@relay.example.org')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('hunter2') }),
    );
  });
});
