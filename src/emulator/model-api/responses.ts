// OpenAI Responses API (`POST /v1/responses`), as Codex calls it: an SSE stream of
// response.created, output items (message, function_call, custom_tool_call) and response.completed.
import type { ServerResponse } from 'node:http';
import { contentText, isRecord, type Entry, type ScenarioStep, type ToolSpec, type Transcript } from './script';

export function responsesTranscript(body: Record<string, unknown>): Transcript {
  const entries: Entry[] = [];
  const input = typeof body.input === 'string' ? [{ type: 'message', role: 'user', content: body.input }] : Array.isArray(body.input) ? body.input.filter(isRecord) : [];
  for (const item of input) {
    const type = item.type ?? 'message';
    if (type === 'message') {
      const text = contentText(item.content);
      if (item.role === 'assistant') entries.push({ kind: 'assistant', text });
      else if (item.role === 'user') entries.push({ kind: 'user', text });
    } else if (type === 'function_call' || type === 'custom_tool_call' || type === 'local_shell_call') {
      entries.push({ kind: 'call', name: typeof item.name === 'string' ? item.name : String(type) });
    } else if (type === 'function_call_output' || type === 'custom_tool_call_output') {
      entries.push({ kind: 'result', text: typeof item.output === 'string' ? item.output : JSON.stringify(item.output) });
    }
  }
  const tools: ToolSpec[] = (Array.isArray(body.tools) ? body.tools.filter(isRecord) : []).flatMap((t) => {
    const name = typeof t.name === 'string' ? t.name : isRecord(t.function) && typeof t.function.name === 'string' ? t.function.name : undefined;
    return name ? [{ name, type: t.type === 'custom' ? ('custom' as const) : ('function' as const) }] : [];
  });
  return { entries, tools, system: typeof body.instructions === 'string' ? body.instructions : '' };
}

export function streamResponses(res: ServerResponse, step: ScenarioStep, t: Transcript, id: string, model: string) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  let seq = 0;
  const send = (type: string, data: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`);
  const response = { id: `resp_${id}`, object: 'response', created_at: Math.floor(Date.now() / 1000), model, status: 'in_progress', output: [] as unknown[] };
  send('response.created', { response });
  send('response.in_progress', { response });
  const items: Array<Record<string, unknown>> = [];
  if ('text' in step) {
    items.push({ type: 'message', id: `msg_${id}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: step.text, annotations: [] }] });
  } else if (step.call.type === 'custom') {
    items.push({ type: 'custom_tool_call', id: `ctc_${id}`, call_id: `call_${id}`, name: step.call.name, input: step.call.input, status: 'completed' });
  } else {
    items.push({ type: 'function_call', id: `fc_${id}`, call_id: `call_${id}`, name: step.call.name, arguments: JSON.stringify(step.call.input), status: 'completed' });
  }
  items.forEach((item, output_index) => {
    if (item.type === 'message') {
      send('response.output_item.added', { output_index, item: { ...item, status: 'in_progress', content: [] } });
      const text = (item.content as Array<{ text: string }>)[0]!.text;
      send('response.content_part.added', { output_index, item_id: item.id, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      send('response.output_text.delta', { output_index, item_id: item.id, content_index: 0, delta: text });
      send('response.output_text.done', { output_index, item_id: item.id, content_index: 0, text });
      send('response.content_part.done', { output_index, item_id: item.id, content_index: 0, part: { type: 'output_text', text, annotations: [] } });
    } else {
      send('response.output_item.added', { output_index, item });
    }
    send('response.output_item.done', { output_index, item });
  });
  const input_tokens = 100 + t.entries.length;
  send('response.completed', {
    response: {
      ...response,
      status: 'completed',
      output: items,
      usage: { input_tokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: 20, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: input_tokens + 20 },
    },
  });
  res.end();
}
