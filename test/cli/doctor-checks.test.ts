// `kai doctor`'s extension point: the exported check list, each check given one context, run
// concurrently, printed in list order, and unable to crash the doctor or print a secret.
import { defaultConfig } from '../../src/config/schema';
import { DOCTOR_CHECKS, runDoctor, type DoctorCheck } from '../../src/cli/doctor';

async function doctorWith(checks: DoctorCheck[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await runDoctor({ config: defaultConfig(), env: {}, print: (l) => lines.push(l), checks });
  return { code, lines };
}

describe('kai doctor checks', () => {
  test('the built-in check list runs Temporal, Linear, the webhook secret, engines and their readiness, git, GitHub and PostgreSQL in that order', () => {
    expect(DOCTOR_CHECKS.map((c) => c.name)).toEqual(['Temporal', 'Linear token', 'Webhook secret', 'Engines', 'Engine readiness', 'Git', 'GitHub token', 'PostgreSQL']);
  });

  test('an added check is printed in list order even when it finishes first, and a warning keeps the exit code 0', async () => {
    let releaseSlow!: () => void;
    const slowGate = new Promise<void>((r) => (releaseSlow = r));
    const slow: DoctorCheck = { name: 'Slow', run: async () => (await slowGate, [{ check: 'Slow', status: 'pass', detail: 'done' }]) };
    const fast: DoctorCheck = {
      name: 'Linear token kind',
      run: async () => {
        releaseSlow();
        return [{ check: 'Linear token kind', status: 'warn', detail: 'a static token expires', fix: 'Run `kai auth linear`.' }];
      },
    };
    const run = await doctorWith([slow, fast]);
    expect(run.code).toBe(0);
    expect(run.lines.slice(0, 3)).toEqual([
      expect.stringMatching(/^\[ ok \] Slow: +done$/),
      expect.stringMatching(/^\[warn\] Linear token kind: +a static token expires$/),
      expect.stringMatching(/^ +fix: +Run `kai auth linear`\.$/),
    ]);
    expect(run.lines.at(-1)).toBe('kai doctor: all required checks passed (1 warning).');
  });

  test('a check that throws fails under its own name and the others still run', async () => {
    const broken: DoctorCheck = { name: 'Engine readiness', run: async () => Promise.reject(new Error('spawn EACCES')) };
    const fine: DoctorCheck = { name: 'Fine', run: async () => [{ check: 'Fine', status: 'pass', detail: 'ok' }] };
    const run = await doctorWith([broken, fine]);
    expect(run.code).toBe(1);
    expect(run.lines[0]).toMatch(/^\[FAIL\] Engine readiness: +the check itself failed: spawn EACCES$/);
    expect(run.lines[2]).toMatch(/^\[ ok \] Fine:/);
    expect(run.lines.at(-1)).toBe('kai doctor: 1 check failed: Engine readiness.');
  });

  test('a shared result is computed once however many checks ask for it', async () => {
    let computed = 0;
    const asking = (name: string): DoctorCheck => ({
      name,
      run: async (ctx) => [{ check: name, status: 'pass', detail: await ctx.shared('remotes', async () => `remotes #${++computed}`) }],
    });
    const run = await doctorWith([asking('A'), asking('B'), asking('C')]);
    expect(computed).toBe(1);
    expect(run.lines.slice(0, 3).every((l) => l.endsWith('remotes #1'))).toBe(true);
  });

  test('a secret a check registers is masked in everything printed', async () => {
    const minted = 'lin_oauth_minted_0123456789';
    const leaky: DoctorCheck = {
      name: 'Leaky',
      run: async (ctx) => {
        ctx.secrets.add(minted);
        return [{ check: 'Leaky', status: 'fail', detail: `token ${minted} refused`, fix: `replace ${minted}` }];
      },
    };
    const run = await doctorWith([leaky]);
    expect(run.lines.join('\n')).not.toContain(minted);
    expect(run.lines[0]).toContain('token ******** refused');
  });
});
