// kai's supported runtime is Node 24 LTS. kai still starts on an older Node (a fresh machine may
// have Node 20), but says once, on stderr, when that Node no longer gets security fixes.

/** The Node.js release schedule's end-of-life dates (https://github.com/nodejs/Release). */
const END_OF_LIFE: Record<number, string> = {
  18: '2025-04-30',
  19: '2023-06-01',
  20: '2026-04-30',
  21: '2024-06-01',
  22: '2027-04-30',
  23: '2025-06-01',
  24: '2028-04-30',
  25: '2026-06-01',
};

export const SUPPORTED_NODE_MAJOR = 24;

/** The warning for a Node release past its end of life on `now`, or undefined when it is supported. */
export function endOfLifeNodeWarning(version: string = process.versions.node, now: Date = new Date()): string | undefined {
  const major = Number(version.replace(/^v/, '').split('.')[0]);
  if (!Number.isInteger(major)) return undefined;
  const eol = END_OF_LIFE[major] ?? (major < 18 ? '2025-04-30' : undefined);
  if (!eol || now.getTime() < Date.parse(`${eol}T00:00:00Z`)) return undefined;
  return (
    `kai: warning: Node ${version.replace(/^v/, '')} reached its end of life on ${eol} and gets no more security fixes. ` +
    `kai supports Node ${SUPPORTED_NODE_MAJOR} LTS: install it (https://nodejs.org/), or in a checkout use .tools/node/bin/node, which \`npm test\` installs.`
  );
}

/** Prints the end-of-life warning to stderr, once per process. */
export function warnIfEndOfLifeNode(): void {
  const warning = endOfLifeNodeWarning();
  if (warning) process.stderr.write(`${warning}\n`);
}
