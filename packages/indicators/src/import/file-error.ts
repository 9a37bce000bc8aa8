/**
 * File-level import errors (`BAD_FILE`): the reason, and where in the input it is when that is
 * known, both in the message (`line 3: …`, for a reader of the stream alone) and in `details` (for
 * a caller that knows the file's name and writes `suspects.csv:3: …`).
 */
import { IndicatorError } from '../errors.js';

export interface InputPlace {
  line?: number;
  byte?: number;
}

export function badFile(reason: string, place: InputPlace = {}, cause?: unknown): IndicatorError {
  const message = place.line === undefined ? reason : `line ${place.line}: ${reason}`;
  return new IndicatorError('BAD_FILE', message, {
    details: { ...place, reason },
    ...(cause !== undefined && { cause }),
  });
}
