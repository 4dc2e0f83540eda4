// OpenAI-compatible chat completions (`POST /v1/chat/completions`), as OpenCode's
// openai-compatible provider calls it: SSE chunks with content or tool_calls deltas, then [DONE].
import type { ServerResponse } from 'node:http';
import { contentText, isRecord, type Entry, type ScenarioStep, type ToolSpec, type Transcript } from './script';

export function chatTranscript(body: Record<string, unknown>): Transcript {
  const entries: Entry[] = [];
  let system = '';
  for (const m of Array.isArray(body.messages) ? body.messages.filter(isRecord) : []) {
    if (m.role === 'system') system += contentText(m.content);
    else if (m.role === 'user') entries.push({ kind: 'user', text: contentText(m.content) });
    else if (m.role === 'tool') entries.push({ kind: 'result', text: contentText(m.content) });
    else if (m.role === 'assistant') {
      const text = contentText(m.content);
      if (text) entries.push({ kind: 'assistant', text });
      for (const c of Array.isArray(m.tool_calls) ? m.tool_calls.filter(isRecord) : []) {
        const fn = isRecord(c.function) ? c.function : {};
        entries.push({ kind: 'call', name: typeof fn.name === 'string' ? fn.name : 'tool' });
      }
    }
  }
  const tools: ToolSpec[] = (Array.isArray(body.tools) ? body.tools.filter(isRecord) : []).flatMap((t) =>
    isRecord(t.function) && typeof t.function.name === 'string' ? [{ name: t.function.name, type: 'function' as const }] : [],
  );
  return { entries, tools, system };
}

export function streamChat(res: ServerResponse, step: ScenarioStep, t: Transcript, id: string, model: string, stream: boolean) {
  const created = Math.floor(Date.now() / 1000);
  const usage = { prompt_tokens: 100 + t.entries.length, completion_tokens: 20, total_tokens: 120 + t.entries.length };
  const toolCall = 'call' in step ? { id: `call_${id}`, type: 'function', function: { name: step.call.name, arguments: JSON.stringify(step.call.input) } } : undefined;
  const finish = toolCall ? 'tool_calls' : 'stop';
  if (!stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    const message = toolCall ? { role: 'assistant', content: null, tool_calls: [toolCall] } : { role: 'assistant', content: 'text' in step ? step.text : '' };
    res.end(JSON.stringify({ id: `chatcmpl-${id}`, object: 'chat.completion', created, model, choices: [{ index: 0, message, finish_reason: finish }], usage }));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const chunk = (delta: Record<string, unknown>, finish_reason: string | null, extra: Record<string, unknown> = {}) =>
    res.write(`data: ${JSON.stringify({ id: `chatcmpl-${id}`, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason }], ...extra })}\n\n`);
  chunk({ role: 'assistant', content: '' }, null);
  if (toolCall) chunk({ tool_calls: [{ index: 0, ...toolCall }] }, null);
  else chunk({ content: 'text' in step ? step.text : '' }, null);
  chunk({}, finish, { usage });
  res.write('data: [DONE]\n\n');
  res.end();
}
