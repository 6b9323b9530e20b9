import { ToolSchema } from '@modelcontextprotocol/sdk/types.js';
import { InputError } from '../engine/errors.js';
import { jsonPath } from '../engine/jsonPath.js';
import { SourceMap, parseJson } from '../engine/sourceLocation.js';
import { rpcMessages } from '../replayer/rpcMessages.js';
import type { SessionSource } from '../replayer/source.js';
import type { ToolSpec } from './types.js';

/**
 * Parses a `--tools` file: a JSON array of MCP `Tool` objects (a `tools/list` result
 * `{"tools": [...]}` is accepted too). Errors name the file, line and JSON path.
 */
export function parseToolsFile(file: string, text: string): ToolSpec[] {
  const parsed = parseJson(text);
  if (!parsed.ok) throw new InputError(`${file}:${parsed.location.line}:${parsed.location.column}: ${parsed.message}`);
  const map = new SourceMap(text);
  const fail = (parts: readonly PropertyKey[], message: string): never => {
    const loc = map.at(parts);
    throw new InputError(`${loc ? `${file}:${loc.line}:${loc.column}` : file}: ${jsonPath(parts)}: ${message}`);
  };
  let list = parsed.value;
  let prefix: PropertyKey[] = [];
  if (list !== null && typeof list === 'object' && !Array.isArray(list) && 'tools' in list) {
    list = (list as { tools: unknown }).tools;
    prefix = ['tools'];
  }
  if (!Array.isArray(list)) return fail(prefix, 'expected a JSON array of MCP Tool objects');
  // An empty catalog would silently fall back to the names the policy gives: say so instead.
  if (list.length === 0) return fail(prefix, 'lists no tools (leave out --tools to call the names the policy gives)');
  const seen = new Set<string>();
  return list.map((item, i): ToolSpec => {
    const checked = ToolSchema.safeParse(item);
    if (!checked.success) {
      const issue = checked.error.issues[0]!;
      fail([...prefix, i, ...issue.path], issue.message);
    }
    const { name, inputSchema } = item as { name: string; inputSchema: unknown };
    if (seen.has(name)) fail([...prefix, i, 'name'], `duplicate tool name "${name}"`);
    seen.add(name);
    return { name, inputSchema };
  });
}

/**
 * The tools a recorded session's `tools/list` responses returned (the last response wins for a
 * name; first-seen order). In a session recorded by `enforce`, the responses the client received
 * lack the tools the policy denied: the server's own answers, kept as `unfiltered` events, give
 * them back (a policy is tested against what the server offers, not what the last one let
 * through). Throws an InputError when the session has none.
 */
export function toolsFromSession(source: SessionSource): ToolSpec[] {
  const listIds = new Set<string>();
  const tools = new Map<string, ToolSpec>();
  const add = (list: { name?: unknown; inputSchema?: unknown }[]) => {
    for (const t of list)
      if (t && typeof t.name === 'string') tools.set(t.name, { name: t.name, inputSchema: t.inputSchema });
  };
  for (const r of source.records()) {
    let raw: string;
    if (r.type === 'message') raw = r.raw;
    else if (r.event === 'unfiltered' && typeof (r.data as { text?: unknown } | null)?.text === 'string')
      raw = (r.data as { text: string }).text;
    else continue;
    if (!raw.includes('tools')) continue;
    const server = r.type === 'event' || r.dir === 's2c';
    for (const m of rpcMessages(raw)) {
      const x = m as { method?: unknown; id?: unknown; result?: { tools?: unknown } };
      if (!server && x.method === 'tools/list') listIds.add(JSON.stringify(x.id));
      else if (server && listIds.has(JSON.stringify(x.id)) && Array.isArray(x.result?.tools)) add(x.result.tools);
    }
  }
  if (tools.size === 0) throw new InputError(`${source.origin}: no tools/list response recorded in this session`);
  return [...tools.values()];
}
