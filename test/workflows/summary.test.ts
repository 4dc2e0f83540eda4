// What the Web UI's workflow list and details say of a session (pure).
import { noIssueKey } from '../../src/domain/issue';
import { sessionDetails, sessionSummary } from '../../src/workflows/summary';

const ISSUE_ID = '0b5c3c1e-8c1a-4f3e-9f57-5e2a4e8d1c11';

describe('sessionSummary', () => {
  test('names the issue by identifier and title, on one line', () => {
    expect(sessionSummary(ISSUE_ID, { id: ISSUE_ID, identifier: 'ENG-123', title: 'Fix the\n  login page' })).toBe('ENG-123: Fix the login page');
    expect(sessionSummary(ISSUE_ID, { id: ISSUE_ID, identifier: 'ENG-123' })).toBe('ENG-123');
  });

  test('falls back to the issue id, or to the agent session of a session with no issue', () => {
    expect(sessionSummary(ISSUE_ID)).toBe(`Linear issue ${ISSUE_ID}`);
    expect(sessionSummary(noIssueKey('sess-42'))).toBe('Linear agent session sess-42 (no issue)');
  });

  test('is capped at 200 characters', () => {
    const summary = sessionSummary(ISSUE_ID, { id: ISSUE_ID, identifier: 'ENG-1', title: 'x'.repeat(500) });
    expect(summary).toHaveLength(200);
    expect(summary.endsWith('…')).toBe(true);
  });
});

describe('sessionDetails', () => {
  test('links the issue and lists team, engine, phase, turns and pull request, leaving out what is unknown', () => {
    const issue = { id: ISSUE_ID, identifier: 'ENG-123', title: 'Fix login', url: 'https://linear.app/acme/issue/ENG-123', teamKey: 'ENG' };
    expect(sessionDetails({ issueId: ISSUE_ID, issue, engine: 'claude', phase: 'idle', turns: 2, prUrl: 'https://github.com/acme/app/pull/12' })).toBe(
      [
        '**[ENG-123: Fix login](https://linear.app/acme/issue/ENG-123)**',
        'team: ENG',
        'engine: claude',
        'phase: idle',
        'turns: 2',
        'pull request: https://github.com/acme/app/pull/12',
      ].join('\n\n'),
    );
    expect(sessionDetails({ issueId: ISSUE_ID })).toBe(`**Linear issue ${ISSUE_ID}**`);
  });
});
