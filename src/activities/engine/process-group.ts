// Containing an engine run: every process it started, including descendants that left its
// process group with setsid, is found and ended on stop, at the time cap, after the run, and
// before a retried run starts. Two mechanisms, used together:
// - a cgroup v2 per run where the worker may create one (every descendant stays in it, whatever
//   it does; `cgroup.kill` ends them all at once);
// - a /proc walk: the run's process group, every process whose environment carries the run's
//   marker (KAI_ENGINE_RUN=<id>, inherited across setsid and double forks), and every
//   descendant of those by parent pid, repeated until none is left.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { sleep } from '../../util';

/** The variable that marks every process of one engine run. */
export const RUN_MARKER_VAR = 'KAI_ENGINE_RUN';

/** What identifies one engine run's processes, recorded so a later attempt can end them. */
export interface EngineRunHandle {
  runId: string;
  /** The supervisor's pid, which is also the run's process group id. */
  pgid?: number;
  /** The run's cgroup directory, when one could be created. */
  cgroup?: string;
}

interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
}

function listProcs(): ProcInfo[] | undefined {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return undefined;
  }
  const procs: ProcInfo[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    // pid (comm) state ppid pgrp ...: comm may contain spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') continue;
    procs.push({ pid: Number(name), ppid: Number(fields[1]), pgid: Number(fields[2]) });
  }
  return procs;
}

function hasMarker(pid: number, marker: string): boolean {
  try {
    return `\0${readFileSync(`/proc/${pid}/environ`, 'latin1')}`.includes(`\0${marker}\0`);
  } catch {
    return false;
  }
}

function cgroupProcs(dir: string | undefined): number[] {
  if (!dir) return [];
  try {
    return readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export interface MemberOptions {
  /** Count members of the process group without checking their marker (the run is ours and live). */
  trustGroup?: boolean;
  /** Pids never counted (the supervisor while the worker still talks to it). */
  exclude?: readonly number[];
}

/** Live processes of a run: cgroup, group, marker, and all their descendants. */
export function runMembers(run: EngineRunHandle, opts: MemberOptions = {}): number[] {
  const exclude = new Set([process.pid, ...(opts.exclude ?? [])]);
  const members = new Set<number>(cgroupProcs(run.cgroup));
  const procs = listProcs();
  if (!procs) {
    // No /proc: the process group is all kai can see.
    if (run.pgid && opts.trustGroup && signalGroup(run.pgid, 0)) members.add(run.pgid);
    return [...members].filter((p) => !exclude.has(p));
  }
  const marker = `${RUN_MARKER_VAR}=${run.runId}`;
  for (const p of procs) {
    if (exclude.has(p.pid)) continue;
    if (run.pgid && p.pgid === run.pgid && (opts.trustGroup || hasMarker(p.pid, marker))) members.add(p.pid);
    else if (hasMarker(p.pid, marker)) members.add(p.pid);
  }
  // Descendants by parent pid, to a fixed point (a child that cleared its environment).
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of procs) {
      if (!members.has(p.pid) && !exclude.has(p.pid) && members.has(p.ppid)) {
        members.add(p.pid);
        grew = true;
      }
    }
  }
  const alive = new Set(procs.map((p) => p.pid));
  return [...members].filter((p) => !exclude.has(p) && alive.has(p));
}

/** Sends a signal to the whole group; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // gone meanwhile
    }
  }
}

function killCgroup(dir: string | undefined): void {
  if (!dir) return;
  try {
    writeFileSync(path.join(dir, 'cgroup.kill'), '1');
  } catch {
    signalAll(cgroupProcs(dir), 'SIGKILL'); // kernels before 5.14 have no cgroup.kill
  }
}

/**
 * Ends a run: SIGTERM to every member, up to `graceMs` for them to exit, then SIGKILL repeated
 * until none is left (new children of dying processes included). Returns true when none is left.
 */
export async function terminateRun(run: EngineRunHandle, graceMs = 2000, opts: MemberOptions = {}): Promise<boolean> {
  let members = runMembers(run, opts);
  if (members.length > 0) {
    signalAll(members, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline) {
      await sleep(50);
      members = runMembers(run, opts);
      if (members.length === 0) break;
      signalAll(members, 'SIGTERM'); // children started meanwhile
    }
  }
  for (let i = 0; i < 250 && members.length > 0; i++) {
    killCgroup(run.cgroup);
    signalAll(members, 'SIGKILL');
    await sleep(20);
    members = runMembers(run, opts);
  }
  return members.length === 0;
}

// --- cgroup v2 -------------------------------------------------------------------------------

/** The cgroup v2 directory the worker itself is in, when cgroup v2 is mounted here. */
export function ownCgroupDir(): string | undefined {
  try {
    const own = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    if (!own) return undefined;
    const mount = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' '))
      .find((f) => f[f.indexOf('-') + 1] === 'cgroup2');
    if (!mount) return undefined;
    // mountinfo: root is field 4, mount point field 5; the own path is relative to the root.
    const root = mount[3]!;
    const rel = own.slice(3);
    const inside = root === '/' ? rel : rel.startsWith(root) ? rel.slice(root.length) : undefined;
    if (inside === undefined) return undefined;
    return path.join(mount[4]!, inside);
  } catch {
    return undefined;
  }
}

/** A fresh cgroup for one run, or undefined where the worker may not create one. */
export function createRunCgroup(runId: string, parent = ownCgroupDir()): string | undefined {
  if (!parent) return undefined;
  const dir = path.join(parent, `kai-engine-${runId}`);
  try {
    mkdirSync(dir);
    return dir;
  } catch {
    return undefined;
  }
}

export function removeRunCgroup(dir: string | undefined): void {
  if (!dir) return;
  try {
    rmdirSync(dir);
  } catch {
    // still populated or already gone; the next run's sweep tries again
  }
}

/** Whether `dir` is a run cgroup kai made (a recorded path is checked before it is used). */
export function isRunCgroup(dir: string | undefined): dir is string {
  return typeof dir === 'string' && path.isAbsolute(dir) && /^kai-engine-[0-9a-f-]{36}$/.test(path.basename(dir)) && !dir.includes('..');
}

// --- the run record: which run last started in a worktree ----------------------------------

function recordFile(cwd: string, dir = path.join(tmpdir(), 'kai-engine-runs')): string {
  return path.join(dir, `${createHash('sha256').update(path.resolve(cwd)).digest('hex').slice(0, 24)}.json`);
}

export function writeRunRecord(cwd: string, run: EngineRunHandle): void {
  const file = recordFile(cwd);
  try {
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify({ ...run, cwd: path.resolve(cwd) }), { mode: 0o600 });
  } catch {
    // best effort: the heartbeat details carry the same
  }
}

export function readRunRecord(cwd: string): EngineRunHandle | undefined {
  try {
    return parseRunHandle(JSON.parse(readFileSync(recordFile(cwd), 'utf8')));
  } catch {
    return undefined;
  }
}

export function clearRunRecord(cwd: string, runId: string): void {
  const file = recordFile(cwd);
  try {
    const current = JSON.parse(readFileSync(file, 'utf8')) as { runId?: unknown };
    if (current.runId === runId) rmSync(file, { force: true });
  } catch {
    // nothing recorded
  }
}

export function parseRunHandle(value: unknown): EngineRunHandle | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.runId !== 'string' || !/^[0-9a-f-]{36}$/.test(v.runId)) return undefined;
  const run: EngineRunHandle = { runId: v.runId };
  if (typeof v.pgid === 'number' && Number.isInteger(v.pgid) && v.pgid > 1) run.pgid = v.pgid;
  if (isRunCgroup(v.cgroup as string | undefined)) run.cgroup = v.cgroup as string;
  return run;
}
