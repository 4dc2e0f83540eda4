// `kai engine parse --engine <name> [file]`: a recorded engine stream in, kai's normalized
// events out as JSONL. For users debugging an engine, and the contract the tests hold kai to.
import * as readline from 'node:readline';
import { ENGINE_NAMES, createParser, isEngineName } from '../activities/engine/registry';
import type { EngineEvent } from '../activities/engine/events';

export interface EngineParseSummary {
  lines: number;
  events: number;
  skipped: number;
  completed?: { ok: boolean; error?: string };
}

export async function engineParse(
  engine: string,
  input: NodeJS.ReadableStream,
  output: NodeJS.WritableStream,
  warn: (message: string) => void = () => undefined,
): Promise<EngineParseSummary> {
  const name = engine.toLowerCase();
  if (!isEngineName(name)) throw new Error(`Unknown engine "${engine}". The engines that exist are: ${ENGINE_NAMES.join(', ')}.`);
  const summary: EngineParseSummary = { lines: 0, events: 0, skipped: 0 };
  const parser = createParser(name, (message, detail) => {
    summary.skipped++;
    warn(`${message}: ${detail.reason}`);
  });
  const write = (event: EngineEvent) => {
    summary.events++;
    if (event.type === 'completed') summary.completed = { ok: event.ok, ...(event.error ? { error: event.error } : {}) };
    output.write(`${JSON.stringify(event)}\n`);
  };
  for (const e of parser.begin()) write(e);
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    summary.lines++;
    for (const e of parser.line(line)) write(e);
  }
  for (const e of parser.finish({ exitCode: 0, recorded: true })) write(e);
  return summary;
}
