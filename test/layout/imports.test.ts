// The folders are the architecture: workflows and activities meet only through src/contracts
// (neither imports the other, not even for types), and no module of src/ imports itself back
// through a chain of imports. Read from the sources with TypeScript's own import scanner, so
// `import type`, re-exports and dynamic `import()` all count.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const SRC = path.resolve(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [full] : [];
  });
}

/** The src/ files `file` imports (relative specifiers resolved; packages left out). */
function localImports(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map((ref) => ref.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => resolveModule(path.resolve(path.dirname(file), spec)));
}

function resolveModule(base: string): string {
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) {
    if (statSync(candidate, { throwIfNoEntry: false })?.isFile()) return candidate;
  }
  throw new Error(`cannot resolve import ${path.relative(SRC, base)}`);
}

const graph = new Map(sourceFiles(SRC).map((file) => [file, localImports(file)]));
const rel = (file: string) => path.relative(SRC, file);
const inFolder = (file: string, folder: string) => rel(file).startsWith(`${folder}/`);

function crossings(from: string, to: string): string[] {
  return [...graph].flatMap(([file, imports]) =>
    inFolder(file, from) ? imports.filter((i) => inFolder(i, to)).map((i) => `${rel(file)} -> ${rel(i)}`) : [],
  );
}

/** One cycle per strongly connected group of files (Tarjan), each listed by its members. */
function cycles(): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(rel(member));
      } while (member !== file);
      if (group.length > 1 || (graph.get(file) ?? []).includes(file)) found.push(group.sort());
    }
  };
  for (const file of graph.keys()) if (!index.has(file)) visit(file);
  return found;
}

describe('src/ import layout', () => {
  it('reads every source file of src/', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get(path.join(SRC, 'workflows/activity-options.ts'))).toContain(
      path.join(SRC, 'contracts/activities.ts'),
    );
  });

  it('activities never import workflows, not even for types', () => {
    expect(crossings('activities', 'workflows')).toEqual([]);
  });

  it('workflows never import activities, not even for types', () => {
    expect(crossings('workflows', 'activities')).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles()).toEqual([]);
  });
});
