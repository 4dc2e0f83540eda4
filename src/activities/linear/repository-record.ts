// Which repository a user chose for an issue when kai asked, kept on the issue in Linear as an
// attachment: any worker (and any later workflow for the issue) reads it back with the issue,
// so the choice needs no state of kai's own. Linear keys attachments by (issue, url), so
// recording again replaces the earlier choice instead of adding one.

/** The attachment's metadata key holding the configured project alias. */
export const REPOSITORY_METADATA_KEY = 'kaiRepository';

/** One fixed URL per issue: the issue itself, marked as kai's repository record. */
export function repositoryRecordUrl(issueUrl: string): string {
  return `${issueUrl.replace(/#.*$/, '')}#kai-repository`;
}

/** The recorded alias among an issue's attachments, if any. */
export function recordedRepository(attachments: ReadonlyArray<{ url: string; metadata: Record<string, unknown> | null }>): string | undefined {
  for (const a of attachments) {
    const alias = a.metadata?.[REPOSITORY_METADATA_KEY];
    if (typeof alias === 'string' && alias.trim() && a.url.endsWith('#kai-repository')) return alias.trim();
  }
  return undefined;
}
