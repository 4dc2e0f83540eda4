export { createFilesActivities, contentTypeFor, safeFileName, type FilesActivitiesDeps, type LinearTokenSource, type LinearUploader } from './activities';
export { downloadToFile, hostAllowed, DownloadRefused } from './download';
export { resolveInside, checkRelativePath, PathRefused } from './safe-path';
export { zipDirectory } from './zip';
