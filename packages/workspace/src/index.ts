export { openSessionArchive, type SessionArchive } from "./archive.ts";
export { commitLine, commitPhases, openRepository, phaseCommitMessage } from "./git.ts";
export {
  createOrFindRepository,
  GIT_PUSH_ENV_VARS,
  type GitHubSettings,
  PublishError,
  pushRepository,
} from "./github.ts";
export {
  type AcceptedFile,
  type CandidateFile,
  checkFiles,
  DEFAULT_FILE_LIMITS,
  type FileLimits,
  type Rejection,
} from "./paths.ts";
export { buildProjectReadme, withProjectReadme } from "./readme.ts";
export { sessionWorkspace, writeWorkspaceFiles } from "./write.ts";
