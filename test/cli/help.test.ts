// `kai --help` and every command's --help: what it does and every option it takes.
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/main';
import { allCommands, runKai } from './run-kai';

/** The commands issue 7 promises, as typed on the command line. */
const PROMISED = [
  'dev',
  'worker',
  'webhook',
  'gateway',
  'ingest',
  'migrate',
  'demo',
  'doctor',
  'status',
  'sessions',
  'engine parse',
  'emulator linear',
  'emulator github',
  'config check',
  'auth linear',
];

function pathOf(cmd: Command): string[] {
  const names: string[] = [];
  for (let c: Command | null = cmd; c && c.parent; c = c.parent) names.unshift(c.name());
  return names;
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

const commands = allCommands(buildProgram()).filter((c) => c.parent);

describe('kai --help', () => {
  it('lists every command kai promises, each with its description', async () => {
    const paths = commands.map((c) => pathOf(c).join(' '));
    expect(paths).toEqual(expect.arrayContaining(PROMISED));

    const run = await runKai(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: kai [options] [command]');
    expect(run.stdout).toContain('-c, --config <path>');
    for (const top of buildProgram().commands) expect(run.stdout).toMatch(new RegExp(`^\\s+${top.name()}\\b`, 'm'));
  });

  it.each(commands.map((c) => [pathOf(c).join(' '), c] as const))('`kai %s --help` says what the command does and lists its options', async (_name, cmd) => {
    const run = await runKai([...pathOf(cmd), '--help']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    const help = squash(run.stdout);
    expect(help).toContain(`Usage: kai ${pathOf(cmd).join(' ')}`);
    // A description that is a sentence, not a placeholder.
    expect(cmd.description().length).toBeGreaterThanOrEqual(20);
    expect(help).toContain(squash(cmd.description()));
    for (const opt of cmd.options) {
      expect(help).toContain(opt.flags);
      expect(opt.description.length).toBeGreaterThan(3);
      expect(help).toContain(squash(opt.description));
    }
    for (const arg of cmd.registeredArguments) expect(help).toContain(arg.name());
    for (const sub of cmd.commands) expect(help).toContain(sub.name());
  });

  it('rejects an unknown command with a usage error and exit code 1', async () => {
    const run = await runKai(['frobnicate']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("unknown command 'frobnicate'");
  });

  it('rejects a missing required option, naming it', async () => {
    const run = await runKai(['engine', 'parse']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--engine <name>');
  });
});
