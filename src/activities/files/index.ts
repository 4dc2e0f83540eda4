export { createFilesActivities, contentTypeFor, parseGetArgs, safeFileName, type FilesActivitiesDeps, type LinearTokenSource } from './activities';
export { downloadToFile, hostAllowed, DownloadRefused } from './download';
export { resolveInside, checkRelativePath, refusedPathError, PathRefused } from './safe-path';
export { writeInside } from './safe-write';
export { zipDirectory, TooLarge } from './zip';
