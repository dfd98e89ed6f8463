export { SourceError, type SourceErrorCode } from './errors';
export type { DownloadProgress, ProgressCallback } from './http';
export { DEFAULT_MAX_FILE_BYTES } from './http';
export { BrowserCacheStorage, MemoryFileCache, defaultFileCache, MODEL_CACHE_NAME, type FileCache } from './file-cache';
export { HubSource, checkRepoId, HF_ENDPOINT, type HubSourceOptions } from './hub';
export { UrlFolderSource, type UrlFolderSourceOptions } from './url-folder';
export { BrowserFilesSource, type DirectoryHandleLike, type PickedFiles } from './browser-files';
export { MemorySource } from './memory';
