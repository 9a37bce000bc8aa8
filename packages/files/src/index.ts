export type { FileContent, WriteFileOptions } from './atomic-file.js';
export { writeFileAtomic } from './atomic-file.js';
export { makePrivateDirectory, syncDirectory } from './directory.js';
export type { FilesErrorCode, FilesErrorDetails } from './errors.js';
export { FilesError } from './errors.js';
export type { HeldLock, LockOptions } from './lock-file.js';
export { acquireLock } from './lock-file.js';
