// kai's own GraphQL reads, each shaped to answer its question in one round trip (the SDK's
// lazy models would spend a request per relation). Field names are Linear's.

export const ISSUE_QUERY = /* GraphQL */ `
  query kaiIssue($id: String!) {
    viewer { id }
    issue(id: $id) {
      id
      identifier
      title
      description
      url
      priority
      estimate
      state { id name type position }
      team { id key name states(first: 100) { nodes { id name type position } } }
      project { id }
      labels(first: 100) { nodes { id name } }
      delegate { id }
      assignee { id }
      attachments(first: 50) { nodes { url metadata } }
    }
  }
`;

export interface StateNode {
  id: string;
  name: string;
  type: string;
  position: number;
}

export interface IssueQueryResult {
  /** kai's app user (the token's viewer): read with the issue, so it costs no request. */
  viewer?: { id: string };
  issue: {
    id: string;
    identifier: string;
    title: string;
    description: string | null;
    url: string;
    priority: number;
    estimate: number | null;
    state: StateNode;
    team: { id: string; key: string; name: string; states: { nodes: StateNode[] } };
    project: { id: string } | null;
    labels: { nodes: Array<{ id: string; name: string }> };
    delegate?: { id: string } | null;
    assignee?: { id: string } | null;
    attachments?: { nodes: Array<{ url: string; metadata: Record<string, unknown> | null }> };
  };
}

export const LABELS_BY_NAME_QUERY = /* GraphQL */ `
  query kaiLabels($filter: IssueLabelFilter!) {
    issueLabels(first: 50, filter: $filter) {
      nodes { id name team { id } }
    }
  }
`;

export interface LabelsByNameResult {
  issueLabels: { nodes: Array<{ id: string; name: string; team: { id: string } | null }> };
}

export const ISSUE_EXTRAS_QUERY = /* GraphQL */ `
  query kaiIssueExtras($id: String!) {
    issue(id: $id) {
      id
      estimate
      description
      project { id }
      children(first: 100) { nodes { id title } }
    }
  }
`;

export interface IssueExtrasResult {
  issue: {
    id: string;
    estimate: number | null;
    description: string | null;
    project: { id: string } | null;
    children: { nodes: Array<{ id: string; title: string }> };
  };
}
