import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configCheck } from '../../src/config';
import { SECRET_ARGS, SECRET_KEYS } from './secret-cases';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kai-config-mask-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const toml = (v: string) => JSON.stringify(v);

describe('kai config check masks by pattern', () => {
  test('engine env keys of every secret shape, secret args, DSNs and token-shaped values never print', () => {
    const env = SECRET_KEYS.filter(([k]) => /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k))
      .map(([k, v]) => `${toml(k)} = ${toml(v)}`)
      .join(', ');
    const path = join(dir, 'kai.toml');
    writeFileSync(
      path,
      [
        '[transports.linear]',
        'app_id = "visible-app-id"',
        'gateway_database_url = "postgres://ingest:Qx7gw@db.internal:5432/events?sslmode=require"',
        '[database]',
        'url = "host=db user=kai password=Qx7libpq dbname=kai"',
        '[github]',
        'api_url = "https://x-access-token:Qx7apiurl@ghe.example/api/v3"',
        '[engines.claude]',
        'binary = "claude"',
        `args = ${JSON.stringify([...SECRET_ARGS, '--append-system-prompt', 'use lin_api_Qx7shape0123456789abcdef0123'])}`,
        `env = { ${env}, CLAUDE_MODEL = "visible-model" }`,
      ].join('\n'),
    );
    for (const format of ['toml', 'json'] as const) {
      const result = configCheck({ path, env: { PGPASSWORD: 'ignored-by-config' }, format });
      expect(result.ok).toBe(true);
      expect(result.output).not.toMatch(/Qx7/);
      expect(result.output).toContain('visible-app-id');
      expect(result.output).toContain('visible-model');
      expect(result.output).toContain('postgres://ingest:********@db.internal:5432/events?sslmode=require');
      expect(result.output).toContain('password=********');
      expect(result.output).toContain('--model');
    }
    const json = configCheck({ path, env: {}, format: 'json' }).output;
    const parsed = JSON.parse(json.slice(json.indexOf('{')));
    expect(parsed.engines.claude.env.AWS_SECRET_ACCESS_KEY).toBe('********');
    expect(parsed.engines.claude.env.PGPASSWORD).toBe('********');
    expect(parsed.engines.claude.env.GITLAB_PAT).toBe('********');
    expect(parsed.engines.claude.env.STRIPE_KEY).toBe('********');
    expect(parsed.engines.claude.args.slice(0, 7)).toEqual(['--api-key=********', '--token', '********', '--password', '********', '--model', 'opus']);
    expect(parsed.linear.token_url).toBe('https://api.linear.app/oauth/token');
  });
});
