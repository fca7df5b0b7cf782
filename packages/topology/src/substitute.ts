/**
 * `${NAME}` and `${NAME:-default}` in topology files.
 *
 * NAME is looked up by the caller (`--set` values, then the environment); `:-default` applies when
 * the variable is unset or empty, and the default may itself hold references
 * (`${PORT:-${BASE_PORT}}`). `$${` is a literal `${`.
 */

const NAME_RE = /[A-Za-z_][A-Za-z0-9_]*/y;

export type VariableLookup = (name: string) => string | undefined;

export interface Expansion {
  readonly value: string;
  /** Variables that were needed, unset, and had no default. */
  readonly missing: readonly string[];
}

/** A `${` that does not start a well-formed reference. */
export class SubstitutionSyntaxError extends Error {
  override readonly name = 'SubstitutionSyntaxError';
}

export function hasReference(text: string): boolean {
  return text.includes('${');
}

/** Replaces every reference in `text`; throws SubstitutionSyntaxError on a malformed one. */
export function expandVariables(text: string, lookup: VariableLookup): Expansion {
  const r = expand(text, 0, false, lookup);
  return { value: r.value, missing: r.missing };
}

/** True when `text` is exactly one reference, e.g. `${P:-2}` (so the result may be re-typed). */
export function isWholeReference(text: string): boolean {
  if (!text.startsWith('${')) return false;
  try {
    return reference(text, 0, () => undefined).end === text.length;
  } catch {
    return false;
  }
}

interface Scan {
  value: string;
  end: number;
  missing: string[];
}

function expand(text: string, start: number, nested: boolean, lookup: VariableLookup): Scan {
  let out = '';
  const missing: string[] = [];
  let i = start;
  // Literal braces in a default pair up (`${OUT:-/tmp/{a}.jsonl}`): only an unmatched `}` ends it.
  let depth = 0;
  while (i < text.length) {
    const c = text[i];
    if (nested && c === '}') {
      if (depth === 0) return { value: out, end: i, missing };
      depth--;
    } else if (nested && c === '{') depth++;
    if (c === '$' && text.startsWith('$${', i)) {
      out += '${';
      i += 3;
      continue;
    }
    if (c === '$' && text[i + 1] === '{') {
      const r = reference(text, i, lookup);
      out += r.value;
      missing.push(...r.missing);
      i = r.end;
      continue;
    }
    out += c;
    i++;
  }
  if (nested) throw new SubstitutionSyntaxError(`unterminated "\${" in "${text}"; close it with "}"`);
  return { value: out, end: i, missing };
}

function reference(text: string, at: number, lookup: VariableLookup): Scan {
  NAME_RE.lastIndex = at + 2;
  const m = NAME_RE.exec(text);
  if (!m) {
    throw new SubstitutionSyntaxError(
      `malformed reference "${text.slice(at, at + 20)}": write \${NAME} or \${NAME:-default} (NAME: letters, digits, _), or $\${ for a literal "\${"`,
    );
  }
  const name = m[0];
  const i = at + 2 + name.length;
  const v = lookup(name);
  if (text[i] === '}') return v === undefined ? { value: '', end: i + 1, missing: [name] } : { value: v, end: i + 1, missing: [] };
  if (text.startsWith(':-', i)) {
    const d = expand(text, i + 2, true, lookup);
    if (v !== undefined && v !== '') return { value: v, end: d.end + 1, missing: [] };
    return { value: d.value, end: d.end + 1, missing: d.missing };
  }
  throw new SubstitutionSyntaxError(`malformed reference "${text.slice(at, i + 1)}": write \${${name}} or \${${name}:-default}`);
}

/*
 * Inside a YAML flow collection (`config: { path: ${input} }`) the braces of a reference are flow
 * indicators, and a default may hold `,`, `#`, `:` or brackets. Before parsing, those characters
 * inside references are swapped for private-use code points of the same length (so every offset,
 * and so every line:col, stays right) and swapped back in each parsed scalar.
 */
const MASKED = '{}[],#:';
const MASK_BASE = 0xe000;
const MASK_RE = /[\uE000-\uE006]/;
const UNMASK_RE = /[\uE000-\uE006]/g;

/** Masks the indicator characters inside `${...}` references, keeping the text's length. */
export function maskReferences(source: string): string {
  if (!source.includes('${') || MASK_RE.test(source)) return source;
  const chars = source.split('');
  let i = source.indexOf('${');
  while (i >= 0) {
    const end = closingBrace(source, i + 1);
    if (end < 0) {
      i = source.indexOf('${', i + 2);
      continue;
    }
    for (let j = i + 1; j <= end; j++) {
      const k = MASKED.indexOf(source[j]!);
      if (k >= 0) chars[j] = String.fromCharCode(MASK_BASE + k);
    }
    i = source.indexOf('${', end + 1);
  }
  return chars.join('');
}

export function unmaskReferences(text: string): string {
  if (!MASK_RE.test(text)) return text;
  return text.replace(UNMASK_RE, (c) => MASKED[c.charCodeAt(0) - MASK_BASE]!);
}

/** The index of the `}` closing the `{` at `open`, on the same line; -1 when there is none. */
function closingBrace(source: string, open: number): number {
  let depth = 0;
  for (let j = open; j < source.length; j++) {
    const c = source[j];
    if (c === '\n' || c === '\r') return -1;
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return j;
  }
  return -1;
}
