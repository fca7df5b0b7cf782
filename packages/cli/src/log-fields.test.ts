import { describe, expect, it } from 'vitest';
import { formatLogFields } from './log-fields.js';

describe('formatLogFields', () => {
  it('shows the fields after the message as key=value, leaving out what the line shows elsewhere', () => {
    expect(formatLogFields({ component: 'lines', task: 0, path: '/var/log/a.log', offset: 8, line: 2, stack: 'x' })).toBe(
      ' path=/var/log/a.log offset=8 line=2',
    );
  });

  it('quotes strings with spaces, quotes or =, and writes objects as JSON, cut when long', () => {
    expect(formatLogFields({ peer: '10.0.0.1:514', why: 'no such file', eq: 'a=b', ok: true, none: null, skip: undefined })).toBe(
      ' peer=10.0.0.1:514 why="no such file" eq="a=b" ok=true none=null',
    );
    expect(formatLogFields({ states: ['counts', 'suppressed'], checkpoint: { offset: 3 } })).toBe(' states=["counts","suppressed"] checkpoint={"offset":3}');
    expect(formatLogFields({ big: 'x'.repeat(500) })).toBe(` big=${'x'.repeat(200)}…`);
    expect(formatLogFields(undefined)).toBe('');
  });

  it('never throws on values JSON cannot write', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(formatLogFields({ cyclic, n: 10n })).toBe(' cyclic=[object Object] n=10');
  });
});
