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

/** checkInputs of components that read the syslog `severity` field: one no input declares means nothing is routed or stored. */
export function needsSeverity(inputs: readonly InputStream[], what: string): InputProblem[] {
  if (inputs.length === 0 || inputs.some((i) => i.fields.includes('severity'))) return [];
  return [
    {
      path: [],
      message: `${what} reads the syslog severity from field "severity", which no input stream declares (inputs: ${inputs.map((i) => `"${i.from}"`).join(', ')}); feed it parsed events (syslog-parse)`,
    },
  ];
}
