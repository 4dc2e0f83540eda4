// Reads one comment's text out of Linear's `promptContext` (an XML-like rendering of the issue
// and its threads) when the webhook's `previousComments` does not carry it. Linear-time: finds
// the comment's id, then the element text that follows it.

const ENTITIES: Record<string, string> = { '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'", '&#39;': "'", '&amp;': '&' };

/** The text of the `<comment …id…>text</comment>` element for `commentId`, if there is one. */
export function commentTextById(promptContext: string, commentId: string): string | undefined {
  if (!commentId) return undefined;
  for (let at = promptContext.indexOf(commentId); at >= 0; at = promptContext.indexOf(commentId, at + commentId.length)) {
    const tagStart = promptContext.lastIndexOf('<', at);
    const tagEnd = promptContext.indexOf('>', at);
    if (tagStart < 0 || tagEnd < 0) return undefined;
    // The id must sit inside a comment's opening tag, as an attribute value.
    if (!/^<comment\b/i.test(promptContext.slice(tagStart, tagStart + 9)) || promptContext.lastIndexOf('>', at) > tagStart) continue;
    const close = promptContext.indexOf('</comment>', tagEnd);
    if (close < 0) return undefined;
    const text = promptContext.slice(tagEnd + 1, close).replace(/&(lt|gt|quot|apos|amp|#39);/g, (m) => ENTITIES[m] ?? m).trim();
    return text || undefined;
  }
  return undefined;
}
