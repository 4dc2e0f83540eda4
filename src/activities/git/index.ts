export { createGitActivities, branchFor, commitMessage, pullRequestBody, type GitActivitiesDeps } from './activities';
export { branchNameProblem, isValidBranchName } from './refname';
export { resolveProject, projectAlias, type ResolvedProject } from './projects';
export { createGitHubClient, parseRepoSlug, upsertPullRequest, type GitHubClient } from './github';
