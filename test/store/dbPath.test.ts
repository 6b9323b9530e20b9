import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultDbPath } from '../../store/dbPath.js';

const HOME_DB = join(homedir(), '.local', 'share', 'mcp-replay', 'recordings.db');

describe('defaultDbPath (SPEC §1)', () => {
  it('is $MCP_REPLAY_DB, else $XDG_DATA_HOME/mcp-replay/recordings.db, else ~/.local/share/…', () => {
    expect(defaultDbPath({ MCP_REPLAY_DB: '/x/r.db', XDG_DATA_HOME: '/xdg' })).toBe('/x/r.db');
    expect(defaultDbPath({ XDG_DATA_HOME: '/xdg' })).toBe('/xdg/mcp-replay/recordings.db');
    expect(defaultDbPath({ HOME: homedir() })).toBe(HOME_DB);
    expect(defaultDbPath({ MCP_REPLAY_DB: '', XDG_DATA_HOME: '', HOME: homedir() })).toBe(HOME_DB);
    expect(defaultDbPath({ HOME: '/home/h' })).toBe('/home/h/.local/share/mcp-replay/recordings.db');
  });

  it('ignores a relative $XDG_DATA_HOME, as the XDG Base Directory spec says (a db must not land wherever the agent host started us)', () => {
    expect(defaultDbPath({ XDG_DATA_HOME: 'data', HOME: homedir() })).toBe(HOME_DB);
    expect(defaultDbPath({ XDG_DATA_HOME: './share', HOME: homedir() })).toBe(HOME_DB);
  });

  it("takes the user's home folder from the system where $HOME is unset, empty or relative (the db would land wherever the host started us)", () => {
    const PASSWD_DB = join(userInfo().homedir, '.local', 'share', 'mcp-replay', 'recordings.db');
    expect(defaultDbPath({})).toBe(PASSWD_DB);
    expect(defaultDbPath({ HOME: '' })).toBe(PASSWD_DB);
    expect(defaultDbPath({ HOME: 'rel' })).toBe(PASSWD_DB);
    expect(defaultDbPath({ HOME: './home' })).toBe(PASSWD_DB);
  });
});
