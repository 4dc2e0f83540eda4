import { isSecretKey, maskString, maskValue, findSecrets, MASK } from '../../src/observability/mask';
import { maskSecrets, secretValues } from '../../src/config/secrets';
import { SECRET_ARGS, SECRET_KEYS, SECRET_VALUES, VISIBLE, allSecrets, nestedTable } from './secret-cases';

describe('which keys name a secret', () => {
  test.each(SECRET_KEYS.map(([k]) => k))('%s is a secret key', (key) => {
    expect(isSecretKey(key)).toBe(true);
    expect(isSecretKey(key.toUpperCase())).toBe(true);
    expect(isSecretKey(key.toLowerCase())).toBe(true);
  });

  test.each(Object.keys(VISIBLE).filter((k) => typeof VISIBLE[k] === 'string'))('%s is not a secret key', (key) => {
    expect(isSecretKey(key)).toBe(false);
  });
});

describe('masking values', () => {
  test.each(SECRET_KEYS)('a value under %s is masked, at the top and five levels down', (key, value) => {
    expect(maskValue({ [key]: value })).toEqual({ [key]: MASK });
    const deep = maskValue({ a: [{ b: { c: [{ [key]: value }] } }] });
    expect(JSON.stringify(deep)).not.toContain(value);
    expect(JSON.stringify(deep)).toContain(MASK);
  });

  test.each(SECRET_VALUES.map((c) => [c.name, c] as const))('%s is masked by its shape under an innocent key', (_name, c) => {
    const out = maskValue({ description: c.value, list: [c.value] }) as { description: string; list: string[] };
    expect(out.description).not.toContain(c.secret);
    expect(out.description).toContain(MASK);
    expect(out.list[0]).toBe(out.description);
    if (c.kept) expect(out.description).toContain(c.kept);
  });

  test('an argument vector loses the values of secret flags only', () => {
    expect(maskValue({ args: SECRET_ARGS }).args).toEqual([`--api-key=${MASK}`, '--token', MASK, '--password', MASK, '--model', 'opus', '--github-pat', MASK]);
  });

  test('the whole table nested in objects and arrays leaks nothing and keeps what is not secret', () => {
    const out = maskValue(nestedTable());
    const text = JSON.stringify(out);
    for (const s of allSecrets()) expect(text).not.toContain(s);
    expect((out as { visible: unknown }).visible).toEqual(VISIBLE);
  });

  test('findSecrets lists what masking hides, decoded', () => {
    const found = findSecrets(nestedTable());
    for (const s of allSecrets()) expect(found.some((f) => f.includes(s))).toBe(true);
    expect(findSecrets({ url: 'postgresql://kai:p%40ss@db/kai' })).toEqual(['p@ss']);
  });

  test('known secret values are hidden wherever they appear', () => {
    expect(maskString('the value correct-horse-battery is here', { known: ['correct-horse-battery'] })).toBe(`the value ${MASK} is here`);
    expect(maskString('short abc stays', { known: ['abc'] })).toBe('short abc stays');
  });

  test('prose, numbers, ids and URLs without credentials pass unchanged', () => {
    for (const s of [
      'Token refreshed successfully for ENG-123',
      'Basic information about the task',
      'see https://linear.app/acme/issue/ENG-1 and https://github.com/o/r/pull/3',
      'desk-lamp-and-task-runner-with-long-name',
      'git push origin kai/eng-1 --force-with-lease',
      'a=b c=d --model opus',
    ])
      expect(maskString(s)).toBe(s);
    expect(maskValue({ count: 3, ok: true, at: new Date(0) })).toEqual({ count: 3, ok: true, at: new Date(0) });
  });

  test('cycles, very deep nesting and huge objects are bounded, never thrown on', () => {
    const cyclic: Record<string, unknown> = { token: 'Qx7cyc-secret' };
    cyclic.self = cyclic;
    expect(maskValue(cyclic)).toEqual({ token: MASK, self: '[Circular]' });
    let deep: Record<string, unknown> = { password: 'Qx7deep-secret' };
    for (let i = 0; i < 100_000; i++) deep = { next: deep };
    expect(JSON.stringify(maskValue(deep))).not.toContain('Qx7deep');
    const wide = Array.from({ length: 50_000 }, (_, i) => ({ i, api_key: `Qx7wide${i}` }));
    expect(JSON.stringify(maskValue(wide))).not.toContain('Qx7wide');
  });

  test('pathological 1 MB strings are masked without catastrophic backtracking', () => {
    const inputs = ['a'.repeat(1 << 20), '://'.repeat(350_000), 'x="'.repeat(350_000), '--token '.repeat(130_000), 'Bearer '.repeat(150_000), `${'sk-'.repeat(300_000)}`, '-eyJ'.repeat(250_000), '-sk-'.repeat(250_000), '_AIza'.repeat(200_000), `"a"${' '.repeat(1 << 20)}`, `--token${' '.repeat(1 << 20)}-`];
    for (const s of inputs) expect(typeof maskString(s)).toBe('string');
    expect(maskString(`${'a '.repeat(500_000)}ghp_Qx7AbCdEfGhIjKlMnOpQrStUvWx`)).not.toContain('Qx7');
    expect(isSecretKey(`${'A'.repeat(1 << 20)}_TOKEN`)).toBe(true);
    expect(isSecretKey('APIKey')).toBe(true);
    expect(isSecretKey('A'.repeat(1 << 20))).toBe(false);
  });
});

describe('config masking', () => {
  test('maskSecrets and secretValues agree on a configuration-shaped object', () => {
    const cfg = { engines: { claude: { args: SECRET_ARGS, env: Object.fromEntries(SECRET_KEYS) } }, database: { url: 'postgres://kai:Qx7db@h/kai' } };
    const text = JSON.stringify(maskSecrets(cfg));
    for (const [, v] of SECRET_KEYS) expect(text).not.toContain(v);
    expect(text).toContain(`postgres://kai:${MASK}@h/kai`);
    expect(secretValues(cfg)).toEqual(expect.arrayContaining(['Qx7db', 'Qx7xArgNext', SECRET_KEYS[0]![1]]));
  });
});
