// Anthropic Messages API (`POST /v1/messages`), as Claude Code calls it: a streamed (SSE)
// message of text and tool_use content blocks, or one JSON message when `stream` is false.
import type { ServerResponse } from 'node:http';
import { isRecord, type ScenarioStep, type Transcript, type Entry, type ToolSpec } from './script';

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c) => (isRecord(c) && typeof c.text === 'string' ? c.text : isRecord(c) && c.content !== undefined ? textOf(c.content) : '')).join('\n');
  return '';
}

export function anthropicTranscript(body: Record<string, unknown>): Transcript {
  const entries: Entry[] = [];
  for (const m of Array.isArray(body.messages) ? body.messages.filter(isRecord) : []) {
    const blocks = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : Array.isArray(m.content) ? m.content.filter(isRecord) : [];
    for (const b of blocks) {
      if (b.type === 'text' && typeof b.text === 'string') entries.push(m.role === 'assistant' ? { kind: 'assistant', text: b.text } : { kind: 'user', text: b.text });
      else if (b.type === 'tool_use' && typeof b.name === 'string') entries.push({ kind: 'call', name: b.name });
      else if (b.type === 'tool_result') entries.push({ kind: 'result', text: textOf(b.content) });
    }
  }
  const tools: ToolSpec[] = (Array.isArray(body.tools) ? body.tools.filter(isRecord) : [])
    .filter((t) => typeof t.name === 'string')
    .map((t) => ({ name: t.name as string, type: 'function' as const }));
  return { entries, tools, system: textOf(body.system) };
}

function blocks(step: ScenarioStep, id: string): Array<Record<string, unknown>> {
  if ('text' in step) return [{ type: 'text', text: step.text }];
  return [
    { type: 'text', text: `Step: ${step.kind}.` },
    { type: 'tool_use', id: `toolu_${id}`, name: step.call.name, input: step.call.input },
  ];
}

const usage = (t: Transcript) => ({ input_tokens: 100 + t.entries.length, output_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 });

export function anthropicMessage(step: ScenarioStep, t: Transcript, id: string, model: string) {
  return {
    id: `msg_${id}`,
    type: 'message',
    role: 'assistant',
    model,
    content: blocks(step, id),
    stop_reason: 'text' in step ? 'end_turn' : 'tool_use',
    stop_sequence: null,
    usage: usage(t),
  };
}

export function streamAnthropic(res: ServerResponse, step: ScenarioStep, t: Transcript, id: string, model: string) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'request-id': `req_${id}` });
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const msg = anthropicMessage(step, t, id, model);
  send('message_start', { type: 'message_start', message: { ...msg, content: [], stop_reason: null, usage: { ...msg.usage, output_tokens: 1 } } });
  msg.content.forEach((b, index) => {
    if (b.type === 'text') {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: b.text } });
    } else {
      send('content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } });
      send('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: JSON.stringify(b.input) } });
    }
    send('content_block_stop', { type: 'content_block_stop', index });
  });
  send('message_delta', { type: 'message_delta', delta: { stop_reason: msg.stop_reason, stop_sequence: null }, usage: { output_tokens: msg.usage.output_tokens } });
  send('message_stop', { type: 'message_stop' });
  res.end();
}
