/**
 * `phone`: a telephone number in E.164 form (`+` and digits), as libphonenumber-js (with its full
 * "max" metadata) formats it.
 *
 * Rules (version 1): trim; a leading `00` is read as `+`; a number starting with `+` needs no region,
 * any other needs one (the record's `region` field, or `--region`), else `REGION_REQUIRED`; the
 * number must be valid for its region by libphonenumber's metadata, else `INVALID_PHONE`. The
 * metadata version is part of the rules: spec/indicators.md records it.
 */
import { type CountryCode, isSupportedCountry, parsePhoneNumberWithError } from 'libphonenumber-js/max';
import { z } from 'zod';
import { IndicatorError } from '../errors.js';
import { defineKind, quote } from '../kind.js';
import { trimWhiteSpace } from '../text.js';

export const phoneKind = defineKind({
  name: 'phone',
  rulesVersion: 1,
  summary: 'E.164 (+ and digits), validated with libphonenumber-js max metadata',
  schema: z.string().regex(/^\+[1-9][0-9]{6,14}$/, 'not an E.164 number'),
  maxLength: 64,
  canonicalize(raw, options) {
    let text = trimWhiteSpace(raw);
    if (text.startsWith('00')) text = `+${text.slice(2)}`;
    let region: CountryCode | undefined;
    if (!text.startsWith('+')) {
      const wanted = options.region === undefined ? undefined : trimWhiteSpace(options.region).toUpperCase();
      if (wanted === undefined || wanted === '') {
        throw new IndicatorError('REGION_REQUIRED', `${quote(raw)} is a national number: give its region`);
      }
      if (!isSupportedCountry(wanted)) throw new IndicatorError('INVALID_PHONE', `unknown region ${quote(wanted)}`);
      region = wanted;
    }
    let number: ReturnType<typeof parsePhoneNumberWithError>;
    try {
      number = region ? parsePhoneNumberWithError(text, { defaultCountry: region }) : parsePhoneNumberWithError(text);
    } catch (cause) {
      throw new IndicatorError('INVALID_PHONE', `${quote(raw)} is not a phone number`, { cause });
    }
    if (!number.isValid())
      throw new IndicatorError('INVALID_PHONE', `${quote(raw)} is not a valid number for its region`);
    return number.number;
  },
  examples: [
    { raw: '+1 415-555-2671', canonical: '+14155552671' },
    { raw: '(415) 555-2671', canonical: '+14155552671', options: { region: 'US' } },
    { raw: '0044 20 7946 0958', canonical: '+442079460958' },
    { raw: '030 1234567', canonical: '+49301234567', options: { region: 'de' } },
    { raw: '+44 (0)20 7946 0958', canonical: '+442079460958' },
    // The rules below come from the metadata, not from code: the first to differ between versions.
    {
      raw: '011 15 2345-6789',
      canonical: '+5491123456789',
      options: { region: 'AR' },
      note: 'metadata: Argentina rewrites the national mobile prefix 15 as 9 after the country code',
    },
    {
      raw: '06 1234 5678',
      canonical: '+390612345678',
      options: { region: 'IT' },
      note: 'metadata: Italy keeps the leading 0',
    },
    {
      raw: '8 (701) 123-45-67',
      canonical: '+77011234567',
      options: { region: 'KZ' },
      note: 'metadata: national prefix 8; +7 is shared by RU and KZ',
    },
    { raw: '+225 01 23 45 67 89', canonical: '+2250123456789', note: "metadata: Côte d'Ivoire's 10-digit plan (2021)" },
    { raw: '+1 415 555 2671 x99', canonical: '+14155552671', note: 'an extension is not part of the value' },
  ],
  counterExamples: [
    { raw: '415-555-2671', code: 'REGION_REQUIRED' },
    { raw: '+1 415 555', code: 'INVALID_PHONE', note: 'too short' },
    { raw: '+1 099 555 2671', code: 'INVALID_PHONE', note: 'no US area code starts with 0' },
    { raw: 'call me', code: 'INVALID_PHONE', options: { region: 'US' } },
    { raw: '415-555-2671', code: 'INVALID_PHONE', options: { region: 'XX' } },
    { raw: '+225 20 12 34 56', code: 'INVALID_PHONE', note: "metadata: Côte d'Ivoire's 8-digit numbers ended in 2021" },
    { raw: '+52 1 55 1234 5678', code: 'INVALID_PHONE', note: "metadata: Mexico's mobile 1 was dropped in 2019" },
  ],
});
