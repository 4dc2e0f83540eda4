// The engine's supervisor: a small Node process between the worker and the engine, so the
// engine dies with its worker. The worker starts it as the leader of a new process group, with
// the engine's stdin/stdout/stderr and one more pipe (fd 3). It moves itself into the run's
// cgroup (when the worker made one), starts the engine with the same stdio, reports the
// engine's exit on fd 3, and stays until the worker closes fd 3. When fd 3 reaches end of file
// or its parent changes (the worker was killed, even with SIGKILL), it ends every process of
// the run (group, marker, descendants, cgroup) and exits. It ignores SIGTERM/SIGINT/SIGHUP: the
// worker ends it by closing fd 3 once the engine's processes are gone.
//
// Plain JavaScript run with `node -e`, so it works the same from the sources (tests) and the
// build; it needs nothing but Node's own modules.

export const SUPERVISOR_SOURCE = String.raw`
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const [cgroup, marker, command, ...args] = process.argv.slice(1);
const parent = process.ppid;
if (cgroup) {
  try { fs.writeFileSync(cgroup + '/cgroup.procs', String(process.pid)); } catch (e) { /* the /proc walk still applies */ }
}
for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(s, () => {});
const control = new net.Socket({ fd: 3, readable: true, writable: true });
const report = (msg) => { try { control.write(JSON.stringify(msg) + '\n'); } catch (e) { /* worker gone */ } };

function procs() {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync('/proc/' + name + '/stat', 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[0] === 'Z' || f[0] === 'X') continue;
      out.push({ pid: Number(name), ppid: Number(f[1]), pgid: Number(f[2]) });
    } catch (e) { /* gone */ }
  }
  return out;
}
function marked(pid) {
  try { return ('\0' + fs.readFileSync('/proc/' + pid + '/environ', 'latin1')).includes('\0' + marker + '\0'); } catch (e) { return false; }
}
function members() {
  const set = new Set();
  if (cgroup) {
    try { for (const p of fs.readFileSync(cgroup + '/cgroup.procs', 'utf8').split('\n')) if (p) set.add(Number(p)); } catch (e) { /* none */ }
  }
  let all = [];
  try { all = procs(); } catch (e) { /* no /proc */ }
  for (const p of all) if (p.pgid === process.pid || marked(p.pid)) set.add(p.pid);
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of all) if (!set.has(p.pid) && set.has(p.ppid)) { set.add(p.pid); grew = true; }
  }
  set.delete(process.pid);
  const alive = new Set(all.map((p) => p.pid));
  return [...set].filter((p) => alive.has(p) || all.length === 0);
}
function signalAll(pids, sig) { for (const p of pids) { try { process.kill(p, sig); } catch (e) { /* gone */ } } }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
let sweeping = false;
async function sweep() {
  if (sweeping) return;
  sweeping = true;
  let left = members();
  signalAll(left, 'SIGTERM');
  for (let i = 0; i < 20 && left.length > 0; i++) { await sleep(50); left = members(); }
  for (let i = 0; i < 250 && left.length > 0; i++) {
    if (cgroup) { try { fs.writeFileSync(cgroup + '/cgroup.kill', '1'); } catch (e) { /* older kernel */ } }
    signalAll(left, 'SIGKILL');
    await sleep(20);
    left = members();
  }
  if (cgroup) {
    // cgroup.kill would take this process too: leave the cgroup first, then remove it.
    try { fs.writeFileSync(cgroup + '/../cgroup.procs', String(process.pid)); fs.rmdirSync(cgroup); } catch (e) { /* the worker retries */ }
  }
  process.exit(0);
}

control.on('data', () => {});
control.on('end', sweep);
control.on('close', sweep);
control.on('error', sweep);
setInterval(() => { if (process.ppid !== parent) sweep(); }, 200);

// fd 3 is the worker's pipe: the engine gets /dev/null there, never the control channel.
const child = spawn(command, args, { stdio: ['inherit', 'inherit', 'inherit', 'ignore'] });
child.on('error', (err) => {
  process.stderr.write('kai: could not start ' + command + ': ' + err.message + '\n');
  report({ exit: { code: 127, signal: null, error: err.code || 'ERROR' } });
});
child.on('exit', (code, signal) => report({ exit: { code, signal } }));
`;
