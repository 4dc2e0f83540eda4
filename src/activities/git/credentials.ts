// The credential of one git command that talks to a remote. With a token and an http(s) URL the
// token travels as an Authorization header set for that one process through its environment
// (GIT_CONFIG_*), never in argv, a file or a credential helper; every credential helper from the
// repository's own config is switched off, so a helper an engine planted there never receives
// it. Without a token only the operator's helpers (system and global config) are asked.
import type { ConfigPins } from './git';
import { execFile } from 'node:child_process';
import { gitBaseEnv } from './git';

let operatorPins: Promise<ConfigPins> | undefined;

function readScope(scope: '--system' | '--global', pattern: string): Promise<Array<[string, string]>> {
  return new Promise((resolve) => {
    execFile('git', ['config', scope, '--get-regexp', pattern], { env: { ...gitBaseEnv(), LC_ALL: 'C' }, cwd: '/' }, (err, stdout) => {
      if (err) return resolve([]);
      resolve(
        String(stdout)
          .split('\n')
          .filter(Boolean)
          .map((line) => {
            const i = line.indexOf(' ');
            return (i < 0 ? [line, ''] : [line.slice(0, i), line.slice(i + 1)]) as [string, string];
          }),
      );
    });
  });
}

/** The operator's own credential helpers and ssh command (system, then global config). */
function operatorCredentialPins(): Promise<ConfigPins> {
  operatorPins ??= (async () => {
    const pattern = '^(credential\\..*helper|core\\.sshcommand)$';
    const entries = [...(await readScope('--system', pattern)), ...(await readScope('--global', pattern))];
    const helpers = entries.filter(([k]) => k !== 'core.sshcommand');
    const ssh = entries.filter(([k]) => k === 'core.sshcommand').pop()?.[1];
    return [['credential.helper', ''], ...helpers, ['core.sshCommand', ssh ?? 'ssh']];
  })();
  return operatorPins;
}

export function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/** Configuration for one command that fetches from or pushes to `url`. */
export async function credentialPins(url: string, token: string | undefined): Promise<ConfigPins> {
  const operator = await operatorCredentialPins();
  if (!token || !isHttpUrl(url)) return operator;
  const basic = Buffer.from(`x-access-token:${token}`).toString('base64');
  return [
    ['credential.helper', ''],
    ['core.sshCommand', operator.find(([k]) => k === 'core.sshCommand')?.[1] ?? 'ssh'],
    ['http.extraHeader', ''],
    ['http.extraHeader', `Authorization: Basic ${basic}`],
    ['http.followRedirects', 'false'],
  ];
}
