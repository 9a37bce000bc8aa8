import { describe, expect, test } from 'vitest';
import { OverlapError } from '../src/index.js';

type ExampleCode = 'FIRST' | 'SECOND';

class ExampleError extends OverlapError<ExampleCode, { index: number }> {
  override readonly name = 'ExampleError';
}

describe('OverlapError', () => {
  test('carries the code, the message and the subclass name, and is an Error', () => {
    const error = new ExampleError('SECOND', 'went wrong');
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(OverlapError);
    expect({ name: error.name, code: error.code, message: error.message }).toEqual({
      name: 'ExampleError',
      code: 'SECOND',
      message: 'went wrong',
    });
    expect(String(error)).toBe('ExampleError: went wrong');
    expect(error.stack?.split('\n')[0]).toBe('ExampleError: went wrong');
  });

  test('keeps the cause as Error.cause, an explicit undefined included, and none when not given', () => {
    const cause = new RangeError('inner');
    expect(new ExampleError('FIRST', 'm', { cause }).cause).toBe(cause);
    expect(Object.hasOwn(new ExampleError('FIRST', 'm', { cause: undefined }), 'cause')).toBe(true);
    expect(Object.hasOwn(new ExampleError('FIRST', 'm'), 'cause')).toBe(false);
  });

  test('details are an own property only when given', () => {
    const error = new ExampleError('FIRST', 'm', { details: { index: 7 } });
    expect(error.details).toEqual({ index: 7 });
    expect(JSON.parse(JSON.stringify(error))).toEqual({ name: 'ExampleError', code: 'FIRST', details: { index: 7 } });
    const bare = new ExampleError('FIRST', 'm');
    expect(Object.hasOwn(bare, 'details')).toBe(false);
    expect(bare.details).toBeUndefined();
  });

  test('a code outside the union does not compile', () => {
    // @ts-expect-error THIRD is not an ExampleCode
    expect(new ExampleError('THIRD', 'm').code).toBe('THIRD');
  });
});
