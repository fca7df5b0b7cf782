import type { InputProblem, InputStream } from '@qitian/api';

/**
 * checkInputs for a sink's `fields` list: a field no input stream declares is a misspelling (the
 * sink would write null for it on every line), and an empty list would write `{}`.
 */
export function checkFieldList(fields: readonly string[] | undefined, inputs: readonly InputStream[]): InputProblem[] {
  if (fields === undefined) return [];
  if (fields.length === 0) return [{ path: ['fields'], message: 'fields is empty: every line would be {}; leave it out to write every field' }];
  const problems: InputProblem[] = [];
  fields.forEach((f, i) => {
    if (!inputs.some((input) => input.fields.includes(f))) problems.push({ path: ['fields', i], field: f, message: `field "${f}" is in no input stream` });
  });
  return problems;
}
