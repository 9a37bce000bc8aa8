/**
 * The small part of STIX 2.1 patterning (STIX 2.1 §9) that names indicator values directly:
 *
 *   pattern     = observation *( "OR" observation )
 *   observation = "[" comparison *( "OR" comparison ) "]"
 *   comparison  = object-path "=" string
 *   object-path = ( "email-addr" | "ipv4-addr" | "ipv6-addr" | "domain-name" | "url" ) ":value"
 *   string      = "'" *( char | "\'" | "\\" ) "'"
 *
 * Anything else — other objects or properties, AND, FOLLOWEDBY, other operators, qualifiers such
 * as WITHIN — is `UNSUPPORTED_STIX`, so the caller reports it with the object's id. Written by hand
 * because no maintained JavaScript STIX-pattern parser exists and this grammar is a dozen lines;
 * the tests cover every production and the rejected constructs.
 */
import { IndicatorError } from '../errors.js';

export interface PatternValue {
  objectType: 'email-addr' | 'ipv4-addr' | 'ipv6-addr' | 'domain-name' | 'url';
  value: string;
}

const OBJECT_TYPES = new Set(['email-addr', 'ipv4-addr', 'ipv6-addr', 'domain-name', 'url']);

export function parseStixPattern(pattern: string): PatternValue[] {
  let at = 0;
  const fail = (what: string): never => {
    throw new IndicatorError('UNSUPPORTED_STIX', `pattern not supported at offset ${at}: ${what}`);
  };
  const skipSpace = () => {
    while (at < pattern.length && /\s/.test(pattern[at] as string)) at++;
  };
  const expect = (token: string) => {
    skipSpace();
    if (!pattern.startsWith(token, at)) fail(`expected ${token}`);
    at += token.length;
  };
  const keywordOr = (): boolean => {
    skipSpace();
    if (!/^OR(?=[\s[]|$)/.test(pattern.slice(at, at + 3))) return false;
    at += 2;
    return true;
  };
  const comparison = (): PatternValue => {
    skipSpace();
    const path = /^([a-z0-9-]+):value\b/.exec(pattern.slice(at));
    if (!path || !OBJECT_TYPES.has(path[1] as string))
      fail('expected email-addr, ipv4-addr, ipv6-addr, domain-name or url :value');
    at += (path as RegExpExecArray)[0].length;
    expect('=');
    skipSpace();
    if (pattern[at] !== "'") fail('expected a quoted string');
    at++;
    let value = '';
    for (;;) {
      if (at >= pattern.length) fail('unterminated string');
      const c = pattern[at] as string;
      if (c === "'") break;
      if (c === '\\') {
        const next = pattern[at + 1];
        if (next !== "'" && next !== '\\') fail('unknown escape');
        value += next;
        at += 2;
        continue;
      }
      value += c;
      at++;
    }
    at++;
    return { objectType: (path as RegExpExecArray)[1] as PatternValue['objectType'], value };
  };
  const observation = (): PatternValue[] => {
    expect('[');
    const values = [comparison()];
    while (keywordOr()) values.push(comparison());
    expect(']');
    return values;
  };
  const values = observation();
  while (keywordOr()) for (const value of observation()) values.push(value);
  skipSpace();
  if (at !== pattern.length) fail('unexpected text (qualifiers and other operators are not supported)');
  return values;
}
