// Only product code is loaded by a production command: the emulators, the local stack, the demo
// and the benchmark are loaded by the commands that use them, and the build holds no benchmark.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadBench } from '../../src/cli/bench';

const ROOT = join(__dirname, '..', '..');

/** The project modules (relative paths) loaded by `kai <args>` building its program and reading its options. */
function modulesLoadedBy(args: string[]): string[] {
  const script = `
    const main = require('./src/cli/main.ts');
    const program = main.buildProgram();
    const quiet = (c) => { c.exitOverride().configureOutput({ writeOut() {}, writeErr() {} }); c.commands.forEach(quiet); };
    quiet(program);
    program.parseAsync(['node', 'kai', ...${JSON.stringify(args)}]).catch(() => undefined).finally(() => {
      const root = process.cwd() + '/';
      process.stdout.write(JSON.stringify(Object.keys(require.cache).filter((f) => f.startsWith(root) && !f.includes('/node_modules/')).map((f) => f.slice(root.length))));
    });`;
  const res = spawnSync(process.execPath, ['-r', './scripts/ts-register.js', '-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (res.status !== 0) throw new Error(`the CLI failed to load:\n${res.stderr}`);
  return JSON.parse(res.stdout) as string[];
}

const TOOLING = /^(src\/emulator\/|src\/app\/stack\.ts|src\/cli\/demo|bench\/)/;

describe('what the kai command loads', () => {
  test('`kai worker --help` loads the worker and none of the emulators, the local stack, the demo or the benchmark', () => {
    const loaded = modulesLoadedBy(['worker', '--help']);
    expect(loaded).toEqual(expect.arrayContaining(['src/cli/main.ts', 'src/worker.ts', 'src/app/activities.ts']));
    expect(loaded.filter((f) => TOOLING.test(f))).toEqual([]);
  });

  test('no file in src/ imports the benchmark or the tests, so the build (src/ only) cannot contain them', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk(join(ROOT, 'src'));
    const outside = files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/(?:from|import\(|require\()\s*'(\.[^']+)'/g)]
        .map((m) => relative(ROOT, join(file, '..', m[1]!)))
        .filter((target) => !target.startsWith('src/') && !target.startsWith('src'))
        .map((target) => `${relative(ROOT, file)} -> ${target}`),
    );
    expect(files.length).toBeGreaterThan(50);
    expect(outside).toEqual([]);
    expect(JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')).include).toEqual(['src']);
  });

  test('`kai bench` outside a checkout says where the benchmark is; in the checkout it loads bench/', () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'kai-no-bench-'));
    try {
      expect(() => loadBench(elsewhere)).toThrow(/kai bench runs in a checkout of kai's repository: .*bench\/index\.ts is not here .*npm run bench/);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
    expect(typeof loadBench().runBench).toBe('function');
  });
});
