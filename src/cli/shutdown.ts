// SIGTERM/SIGINT handling for long-running commands: stop accepting, drain, then exit.
const hooks: Array<() => unknown> = [];
let signalled: Promise<void> | undefined;
let release: (() => void) | undefined;

/** Registers cleanup run (in reverse order) when the process is asked to stop. */
export function onShutdown(hook: () => unknown): void {
  hooks.push(hook);
  install();
}

/** Resolves once SIGTERM or SIGINT arrived and every cleanup hook ran. */
export function waitForShutdown(): Promise<void> {
  install();
  return signalled!;
}

function install(): void {
  if (signalled) return;
  signalled = new Promise<void>((r) => (release = r));
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      process.stderr.write(`kai: ${signal} again, exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    process.stderr.write(`kai: ${signal}, shutting down (again to force)\n`);
    for (const hook of hooks.reverse()) {
      try {
        await hook();
      } catch (err) {
        process.stderr.write(`kai: during shutdown: ${(err as Error).message}\n`);
      }
    }
    release!();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}
