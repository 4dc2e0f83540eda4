// kai supports Node 24 LTS and still starts on an older Node, saying once that it is past its end of life.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { endOfLifeNodeWarning } from '../../src/cli/node-version';

const ROOT = join(__dirname, '..', '..');
const on = (day: string) => new Date(`${day}T12:00:00Z`);

describe('the Node version kai runs on', () => {
  test('Node 20 after April 2026 gets a warning that names its end of life and Node 24', () => {
    const warning = endOfLifeNodeWarning('v20.20.2', on('2026-12-02'));
    expect(warning).toContain('Node 20.20.2 reached its end of life on 2026-04-30');
    expect(warning).toContain('kai supports Node 24 LTS');
  });

  test('Node 22 and 24 start without a warning today; Node 22 gets one after April 2027', () => {
    expect(endOfLifeNodeWarning('22.12.0', on('2026-12-02'))).toBeUndefined();
    expect(endOfLifeNodeWarning('24.22.3', on('2026-12-02'))).toBeUndefined();
    expect(endOfLifeNodeWarning('22.12.0', on('2027-05-01'))).toContain('Node 22.12.0 reached its end of life on 2027-04-30');
  });

  test('Node 20 before its end of life, and releases older than the table, are judged by the release schedule', () => {
    expect(endOfLifeNodeWarning('20.19.0', on('2026-03-01'))).toBeUndefined();
    expect(endOfLifeNodeWarning('16.20.0', on('2026-03-01'))).toContain('Node 16.20.0 reached its end of life');
    expect(endOfLifeNodeWarning('23.1.0', on('2026-03-01'))).toContain('end of life on 2025-06-01');
  });

  test('the kai command prints the warning exactly once on an end-of-life Node and not at all on Node 24', () => {
    const nodes = [process.execPath, join(ROOT, '.tools', 'node', 'bin', 'node')].filter((p) => existsSync(p));
    for (const node of nodes) {
      const version = spawnSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
      const run = spawnSync(node, [join(ROOT, 'bin', 'kai.js'), 'config', 'check', '--json'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, KAI_CONFIG: '' }, timeout: 60_000 });
      const expected = endOfLifeNodeWarning(version);
      const warnings = run.stderr.split('\n').filter((l) => l.includes('reached its end of life'));
      expect({ node: version, warnings }).toEqual({ node: version, warnings: expected ? [expected] : [] });
    }
  });
});
