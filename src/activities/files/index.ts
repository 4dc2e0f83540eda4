export { createFilesActivities, contentTypeFor, parseGetArgs, safeFileName, type FilesActivitiesDeps, type LinearTokenSource, type LinearUploader } from './activities';
export { downloadToFile, hostAllowed, DownloadRefused } from './download';
export { resolveInside, checkRelativePath, refusedPathError, PathRefused } from './safe-path';
export { writeInside } from './safe-write';
export { zipDirectory, TooLarge } from './zip';
