import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connect, eventually, filesystem, memory, recordArgs, recorded, tempDir } from './helpers.js';

/** Runs `converse` against the server directly and through `record`; returns both results and the recording. */
async function both<T>(
  server: (run: string) => { args: string[]; env?: Record<string, string> },
  converse: (c: Client) => Promise<T>,
) {
  const dir = tempDir();
  const db = join(dir, 'rec.db');
  const d = server('direct');
  const p = server('proxied');
  const [a, b] = await Promise.all([
    connect(process.execPath, d.args, d.env),
    connect(process.execPath, recordArgs(db, p.args), p.env),
  ]);
  const [direct, proxied] = await Promise.all([converse(a.client), converse(b.client)]);
  await Promise.all([a.client.close(), b.client.close()]);
  const rec = await eventually(() => {
    const r = recorded(db);
    if (r.info.exitCode === undefined) throw new Error('session not closed yet');
    return r;
  });
  expect(rec.c2s).toEqual(JSON.parse(JSON.stringify(b.spy.sent)));
  expect(rec.s2c).toEqual(JSON.parse(JSON.stringify(b.spy.received)));
  return { direct, proxied };
}

describe('record in front of other real servers', () => {
  it('server-filesystem: same tools, same listing and file contents', async () => {
    // Both runs read the same folder (they only read), so even error texts are identical.
    const data = tempDir();
    mkdirSync(join(data, 'sub'), { recursive: true });
    writeFileSync(join(data, 'notes.txt'), 'line one\nline two — ünïcode\n');
    const { direct, proxied } = await both(
      () => ({ args: [filesystem, data] }),
      async (client) => {
        const tools = await client.listTools();
        const roots = (await client.callTool({ name: 'list_allowed_directories', arguments: {} })) as {
          content: { text: string }[];
        };
        const base = roots.content[0]!.text.split('\n').pop()!.trim();
        const listing = await client.callTool({ name: 'list_directory', arguments: { path: base } });
        const file = await client.callTool({ name: 'read_text_file', arguments: { path: join(base, 'notes.txt') } });
        const missing = await client.callTool({ name: 'read_text_file', arguments: { path: join(base, 'nope.txt') } });
        return { tools, listing, file, missing };
      },
    );
    expect(proxied.tools).toEqual(direct.tools);
    expect(proxied.listing).toEqual(direct.listing);
    expect(JSON.stringify(proxied.listing)).toContain('notes.txt');
    expect(proxied.file).toEqual(direct.file);
    expect(JSON.stringify(proxied.file)).toContain('ünïcode');
    expect(proxied.missing).toMatchObject({ isError: true });
    expect(proxied.missing).toEqual(direct.missing);
  });

  it('server-memory: same tools and graph', async () => {
    const dir = tempDir();
    const { direct, proxied } = await both(
      (run) => ({ args: [memory], env: { MEMORY_FILE_PATH: join(dir, `${run}.jsonl`) } }),
      async (client) => {
        const tools = await client.listTools();
        await client.callTool({
          name: 'create_entities',
          arguments: {
            entities: [
              { name: 'Ada', entityType: 'person', observations: ['wrote the first program'] },
              { name: 'Engine', entityType: 'machine', observations: ['analytical'] },
            ],
          },
        });
        await client.callTool({
          name: 'create_relations',
          arguments: { relations: [{ from: 'Ada', to: 'Engine', relationType: 'programmed' }] },
        });
        const graph = await client.callTool({ name: 'read_graph', arguments: {} });
        const found = await client.callTool({ name: 'search_nodes', arguments: { query: 'Ada' } });
        return { tools, graph, found };
      },
    );
    expect(proxied.tools).toEqual(direct.tools);
    expect(proxied.graph).toEqual(direct.graph);
    expect(JSON.stringify(proxied.graph)).toContain('programmed');
    expect(proxied.found).toEqual(direct.found);
  });
});
