/**
 * Validation of decoded messages with zod, reporting every problem with its path (not only the
 * first), as a single `INVALID_MESSAGE` error.
 */
import type { z } from 'zod';
import { ProtocolError } from './errors.js';

export function parseWithSchema<T extends z.ZodType>(schema: T, input: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    path: issue.path.map((key) => (typeof key === 'number' ? key : String(key))),
    message: issue.message,
  }));
  const summary = issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new ProtocolError('INVALID_MESSAGE', `invalid ${what}: ${summary}`, { issues });
}
