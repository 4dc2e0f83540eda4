// The slice of Linear's GraphQL schema the emulator answers. Names, argument lists and
// nullability follow Linear's real schema (as @linear/sdk's generated types spell it), so a
// document the emulator accepts is one Linear would accept; anything outside this slice is
// rejected by graphql-js validation with an error that names the unknown field.
import { buildSchema, type GraphQLSchema } from 'graphql';

export const LINEAR_EMULATOR_SDL = /* GraphQL */ `
scalar DateTime
scalar JSON
scalar JSONObject
scalar TimelessDate

enum PaginationOrderBy { createdAt updatedAt }
enum AgentActivitySignal { auth continue select stop }
enum AgentActivityType { action elicitation error prompt response thought }
enum AgentSessionStatus { active awaitingInput complete error pending stale stopping }
enum GitLinkKind { closes contributes links }

interface Node { id: ID! }

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

input IDComparator { eq: ID, neq: ID, in: [ID!], nin: [ID!] }
input StringComparator {
  eq: String, neq: String, in: [String!], nin: [String!]
  eqIgnoreCase: String, neqIgnoreCase: String
  contains: String, containsIgnoreCase: String, startsWith: String, endsWith: String
}
input NumberComparator { eq: Float, neq: Float, lt: Float, lte: Float, gt: Float, gte: Float, in: [Float!], nin: [Float!] }
input TeamFilter { id: IDComparator, key: StringComparator, name: StringComparator, and: [TeamFilter!], or: [TeamFilter!] }
input NullableTeamFilter {
  id: IDComparator, key: StringComparator, name: StringComparator, null: Boolean
  and: [NullableTeamFilter!], or: [NullableTeamFilter!]
}
input WorkflowStateFilter {
  id: IDComparator, name: StringComparator, type: StringComparator, position: NumberComparator
  team: TeamFilter, and: [WorkflowStateFilter!], or: [WorkflowStateFilter!]
}
input IssueLabelFilter {
  id: IDComparator, name: StringComparator, team: NullableTeamFilter
  and: [IssueLabelFilter!], or: [IssueLabelFilter!]
}
input IssueFilter { id: IDComparator, title: StringComparator, and: [IssueFilter!], or: [IssueFilter!] }

type Organization implements Node {
  id: ID!
  name: String!
  urlKey: String!
  createdAt: DateTime!
  labels(after: String, before: String, filter: IssueLabelFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): IssueLabelConnection!
  teams(after: String, before: String, filter: TeamFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): TeamConnection!
}

type User implements Node {
  id: ID!
  name: String!
  displayName: String!
  email: String!
  active: Boolean!
  app: Boolean!
  url: String!
  avatarUrl: String
  createdAt: DateTime!
  organization: Organization!
}

type Team implements Node {
  id: ID!
  key: String!
  name: String!
  displayName: String!
  issueEstimationType: String!
  createdAt: DateTime!
  organization: Organization!
  states(after: String, before: String, filter: WorkflowStateFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): WorkflowStateConnection!
  labels(after: String, before: String, filter: IssueLabelFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): IssueLabelConnection!
  projects(after: String, before: String, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): ProjectConnection!
  cycles(after: String, before: String, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): CycleConnection!
  activeCycle: Cycle
}
type TeamConnection { nodes: [Team!]!, pageInfo: PageInfo! }

type WorkflowState implements Node {
  id: ID!
  name: String!
  type: String!
  position: Float!
  color: String!
  description: String
  createdAt: DateTime!
  updatedAt: DateTime!
  team: Team!
}
type WorkflowStateConnection { nodes: [WorkflowState!]!, pageInfo: PageInfo! }

type Project implements Node {
  id: ID!
  name: String!
  description: String!
  url: String!
  slugId: String!
  createdAt: DateTime!
  teams(after: String, before: String, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): TeamConnection!
}
type ProjectConnection { nodes: [Project!]!, pageInfo: PageInfo! }

type Cycle implements Node {
  id: ID!
  number: Float!
  name: String
  startsAt: DateTime!
  endsAt: DateTime!
  isActive: Boolean!
  createdAt: DateTime!
  team: Team!
}
type CycleConnection { nodes: [Cycle!]!, pageInfo: PageInfo! }

type IssueLabel implements Node {
  id: ID!
  name: String!
  color: String!
  description: String
  isGroup: Boolean!
  createdAt: DateTime!
  team: Team
  parent: IssueLabel
}
type IssueLabelConnection { nodes: [IssueLabel!]!, pageInfo: PageInfo! }

type Issue implements Node {
  id: ID!
  identifier: String!
  number: Float!
  title: String!
  description: String
  url: String!
  branchName: String!
  priority: Float!
  priorityLabel: String!
  estimate: Float
  createdAt: DateTime!
  updatedAt: DateTime!
  startedAt: DateTime
  completedAt: DateTime
  canceledAt: DateTime
  labelIds: [String!]!
  team: Team!
  state: WorkflowState!
  project: Project
  cycle: Cycle
  parent: Issue
  assignee: User
  delegate: User
  creator: User
  children(after: String, before: String, filter: IssueFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): IssueConnection!
  labels(after: String, before: String, filter: IssueLabelFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): IssueLabelConnection!
  comments(after: String, before: String, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): CommentConnection!
  attachments(after: String, before: String, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): AttachmentConnection!
}
type IssueConnection { nodes: [Issue!]!, pageInfo: PageInfo! }

type Comment implements Node {
  id: ID!
  body: String!
  url: String!
  createdAt: DateTime!
  updatedAt: DateTime!
  issueId: String
  parentId: String
  issue: Issue
  parent: Comment
  user: User
}
type CommentConnection { nodes: [Comment!]!, pageInfo: PageInfo! }

type Attachment implements Node {
  id: ID!
  title: String!
  subtitle: String
  url: String!
  metadata: JSONObject!
  sourceType: String
  createdAt: DateTime!
  updatedAt: DateTime!
  issue: Issue!
  creator: User
}
type AttachmentConnection { nodes: [Attachment!]!, pageInfo: PageInfo! }

type AgentSessionExternalLink { label: String!, url: String! }

type AgentSession implements Node {
  id: ID!
  status: AgentSessionStatus!
  plan: JSON
  summary: String
  externalUrls: JSON!
  externalLinks: [AgentSessionExternalLink!]!
  createdAt: DateTime!
  updatedAt: DateTime!
  startedAt: DateTime
  endedAt: DateTime
  url: String
  issue: Issue
  comment: Comment
  creator: User
  appUser: User!
  activities(after: String, before: String, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): AgentActivityConnection!
}

type AgentActivityThoughtContent { type: AgentActivityType!, body: String!, bodyData: JSONObject! }
type AgentActivityActionContent { type: AgentActivityType!, action: String!, parameter: String!, result: String, resultData: JSONObject }
type AgentActivityElicitationContent { type: AgentActivityType!, body: String!, bodyData: JSONObject! }
type AgentActivityResponseContent { type: AgentActivityType!, body: String!, bodyData: JSONObject! }
type AgentActivityErrorContent { type: AgentActivityType!, body: String!, bodyData: JSONObject!, reasonCode: String }
type AgentActivityPromptContent { type: AgentActivityType!, body: String!, bodyData: JSONObject!, title: String }
union AgentActivityContent =
    AgentActivityActionContent
  | AgentActivityElicitationContent
  | AgentActivityErrorContent
  | AgentActivityPromptContent
  | AgentActivityResponseContent
  | AgentActivityThoughtContent

type AgentActivity implements Node {
  id: ID!
  content: AgentActivityContent!
  ephemeral: Boolean!
  signal: AgentActivitySignal
  signalMetadata: JSON
  createdAt: DateTime!
  updatedAt: DateTime!
  agentSession: AgentSession!
  sourceComment: Comment
  user: User!
}
type AgentActivityConnection { nodes: [AgentActivity!]!, pageInfo: PageInfo! }

type UploadFileHeader { key: String!, value: String! }
type UploadFile {
  assetUrl: String!
  contentType: String!
  filename: String!
  headers: [UploadFileHeader!]!
  metaData: JSONObject
  size: Int!
  uploadUrl: String!
}

type AgentActivityPayload { agentActivity: AgentActivity!, lastSyncId: Float!, success: Boolean! }
type AgentSessionPayload { agentSession: AgentSession!, lastSyncId: Float!, success: Boolean! }
type IssuePayload { issue: Issue, lastSyncId: Float!, success: Boolean! }
type IssueLabelPayload { issueLabel: IssueLabel!, lastSyncId: Float!, success: Boolean! }
type AttachmentPayload { attachment: Attachment!, lastSyncId: Float!, success: Boolean! }
type CommentPayload { comment: Comment!, lastSyncId: Float!, success: Boolean! }
type UploadPayload { uploadFile: UploadFile, lastSyncId: Float!, success: Boolean! }

input AgentActivityCreateInput {
  agentSessionId: String!
  content: JSONObject!
  contextualMetadata: JSONObject
  ephemeral: Boolean
  id: String
  signal: AgentActivitySignal
  signalMetadata: JSONObject
}
input AgentSessionExternalUrlInput { label: String!, url: String! }
input AgentSessionUpdateInput {
  addedExternalUrls: [AgentSessionExternalUrlInput!]
  externalLink: String
  externalUrls: [AgentSessionExternalUrlInput!]
  plan: JSONObject
  removedExternalUrls: [String!]
  summary: String
}
input IssueUpdateInput {
  addedLabelIds: [String!]
  assigneeId: String
  cycleId: String
  delegateId: String
  description: String
  estimate: Int
  labelIds: [String!]
  parentId: String
  priority: Int
  projectId: String
  removedLabelIds: [String!]
  stateId: String
  teamId: String
  title: String
}
input IssueCreateInput {
  assigneeId: String
  cycleId: String
  delegateId: String
  description: String
  estimate: Int
  id: String
  labelIds: [String!]
  parentId: String
  priority: Int
  projectId: String
  stateId: String
  teamId: String!
  title: String
}
input IssueLabelCreateInput {
  color: String
  description: String
  id: String
  isGroup: Boolean
  name: String!
  parentId: String
  teamId: String
}
input AttachmentCreateInput {
  commentBody: String
  iconUrl: String
  id: String
  issueId: String!
  metadata: JSONObject
  subtitle: String
  title: String!
  url: String!
}
input CommentCreateInput {
  body: String
  id: String
  issueId: String
  parentId: String
}

type Query {
  viewer: User!
  organization: Organization!
  issue(id: String!): Issue!
  team(id: String!): Team!
  teams(after: String, before: String, filter: TeamFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): TeamConnection!
  workflowStates(after: String, before: String, filter: WorkflowStateFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): WorkflowStateConnection!
  issueLabels(after: String, before: String, filter: IssueLabelFilter, first: Int, includeArchived: Boolean, last: Int, orderBy: PaginationOrderBy): IssueLabelConnection!
  agentSession(id: String!): AgentSession!
  agentActivity(id: String!): AgentActivity!
  attachment(id: String!): Attachment!
  comment(id: String): Comment!
  project(id: String!): Project!
}

type Mutation {
  agentActivityCreate(input: AgentActivityCreateInput!): AgentActivityPayload!
  agentSessionUpdate(id: String!, input: AgentSessionUpdateInput!): AgentSessionPayload!
  issueUpdate(id: String!, input: IssueUpdateInput!): IssuePayload!
  issueCreate(input: IssueCreateInput!): IssuePayload!
  issueLabelCreate(input: IssueLabelCreateInput!, replaceTeamLabels: Boolean): IssueLabelPayload!
  attachmentCreate(input: AttachmentCreateInput!): AttachmentPayload!
  attachmentLinkGitHubPR(createAsUser: String, displayIconUrl: String, id: String, issueId: String!, linkKind: GitLinkKind, title: String, url: String!): AttachmentPayload!
  commentCreate(input: CommentCreateInput!): CommentPayload!
  fileUpload(contentType: String!, filename: String!, makePublic: Boolean, metaData: JSON, size: Int!): UploadPayload!
}
`;

let cached: GraphQLSchema | undefined;

export function linearEmulatorSchema(): GraphQLSchema {
  cached ??= buildSchema(LINEAR_EMULATOR_SDL);
  return cached;
}
