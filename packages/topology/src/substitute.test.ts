import { describe, expect, it } from 'vitest';
import { expandVariables, isWholeReference, maskReferences, SubstitutionSyntaxError, unmaskReferences } from './substitute.js';

const vars: Record<string, string> = { HOST: 'db1', PORT: '5432', EMPTY: '' };
const lookup = (name: string) => vars[name];

describe('expandVariables', () => {
  it('replaces references, applies defaults when unset or empty, and nests', () => {
    expect(expandVariables('${HOST}:${PORT}', lookup)).toEqual({ value: 'db1:5432', missing: [] });
    expect(expandVariables('${USER:-qitian}/${EMPTY:-x}', lookup)).toEqual({ value: 'qitian/x', missing: [] });
    expect(expandVariables('${NOPE:-${HOST}-${PORT}}', lookup).value).toBe('db1-5432');
    expect(expandVariables('${HOST:-${NOPE}}', lookup)).toEqual({ value: 'db1', missing: [] });
  });

  it('pairs literal braces in a default, so only the unmatched one ends it', () => {
    expect(expandVariables('${OUT:-/tmp/{a}.jsonl}', lookup).value).toBe('/tmp/{a}.jsonl');
    expect(expandVariables('${HOST:-/tmp/{a}.jsonl}.x', lookup).value).toBe('db1.x');
    expect(expandVariables('${S:-{1}}', lookup).value).toBe('{1}');
    expect(expandVariables('${S:-{${HOST}}}/', lookup).value).toBe('{db1}/');
    expect(isWholeReference('${S:-{1}}')).toBe(true);
    expect(() => expandVariables('${S:-{1}', lookup)).toThrow('unterminated');
  });

  it('lists unset variables without defaults', () => {
    expect(expandVariables('${A}/${B:-${C}}', lookup)).toEqual({ value: '/', missing: ['A', 'C'] });
  });

  it('keeps $${ literal and lone dollars', () => {
    expect(expandVariables('$${HOST} costs $5 $$', lookup).value).toBe('${HOST} costs $5 $$');
  });

  it('rejects malformed references', () => {
    expect(() => expandVariables('${1A}', lookup)).toThrow(SubstitutionSyntaxError);
    expect(() => expandVariables('${A B}', lookup)).toThrow('write ${A} or ${A:-default}');
    expect(() => expandVariables('${A:-x', lookup)).toThrow('unterminated');
  });
});

describe('isWholeReference', () => {
  it('is true only for exactly one reference', () => {
    expect(isWholeReference('${P}')).toBe(true);
    expect(isWholeReference('${P:-${Q:-2}}')).toBe(true);
    expect(isWholeReference('${P}x')).toBe(false);
    expect(isWholeReference('x${P}')).toBe(false);
    expect(isWholeReference('${P}${Q}')).toBe(false);
  });
});

describe('maskReferences', () => {
  it('keeps the length and round-trips', () => {
    const src = 'config: { path: ${DIR:-/a,b}/x, n: ${N:-[1]} } # ${C:-#}\nplain: {}\n';
    const masked = maskReferences(src);
    expect(masked).toHaveLength(src.length);
    expect(masked).not.toContain('${DIR:-/a,b}');
    expect(masked.slice(masked.indexOf('plain'))).toBe('plain: {}\n');
    expect(unmaskReferences(masked)).toBe(src);
  });

  it('leaves an unterminated reference alone', () => {
    expect(maskReferences('a: ${X\nb: }\n')).toBe('a: ${X\nb: }\n');
  });
});
