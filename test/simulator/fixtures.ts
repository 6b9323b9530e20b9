import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compilePolicy } from '../../engine/index.js';
import { parseExpectations, parseToolsFile, type SimPolicy, type ToolSpec } from '../../simulator/index.js';
import type { Expectation } from '../../simulator/expectations.js';

export const root = join(import.meta.dirname, '../..');
export const fixture = (name: string) => join('fixtures/simulate', name);

export function loadSimPolicy(file: string): SimPolicy {
  const text = readFileSync(join(root, file), 'utf8');
  const compiled = compilePolicy(text);
  if (!compiled.ok) throw new Error(JSON.stringify(compiled.errors));
  return { name: file, policy: compiled.policy, doc: JSON.parse(text) };
}

export function loadTools(file: string): ToolSpec[] {
  return parseToolsFile(file, readFileSync(join(root, file), 'utf8'));
}

export function loadExpect(file: string): Expectation[] {
  return parseExpectations(file, readFileSync(join(root, file), 'utf8'));
}

/** The three fixtures of issue 6: policy, catalog and expectations of one named case. */
export function scenario(name: string) {
  return {
    policies: [loadSimPolicy(fixture(`${name}.policy.json`))],
    catalog: loadTools(fixture(`${name}.tools.json`)),
    expectations: loadExpect(fixture(`${name}.expect.json`)),
  };
}
