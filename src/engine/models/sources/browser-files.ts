/**
 * A model folder the user picked in the browser, either as the File list of
 * `<input type="file" webkitdirectory>` or as a directory handle from `showDirectoryPicker()`.
 * Files are read lazily; range() uses Blob.slice, so the checkpoint loader reads a large
 * weight file tensor by tensor and never holds it whole.
 */

import type { FileSource } from '../types';
import { checkFileName, checkRange, decodeText, SourceError } from './errors';

/**
 * The parts of FileSystemDirectoryHandle used here. TypeScript's "DOM" lib leaves out its async
 * iteration (that is in "DOM.AsyncIterable"), so it is typed structurally.
 */
export interface DirectoryHandleLike {
  readonly kind: 'directory';
  readonly name: string;
  values(): AsyncIterable<{ readonly kind: 'file' | 'directory'; readonly name: string }>;
}

interface FileHandleLike {
  readonly kind: 'file';
  readonly name: string;
  getFile(): Promise<File>;
}

type Entry = File | FileHandleLike;

/** Files from an `<input>`, as an array or the input's FileList. */
export type PickedFiles = ArrayLike<File> | Iterable<File>;

export class BrowserFilesSource implements FileSource {
  readonly label: string;
  private entries: Map<string, Entry> | null = null;
  private listing: Promise<Map<string, Entry>> | null = null;
  private readonly dir: DirectoryHandleLike | null = null;
  private readonly opened = new Map<string, Promise<File>>();

  /**
   * `files`: names come from `webkitRelativePath` with the top folder stripped
   * (`tiny-qwen3/config.json` -> `config.json`), or from `name` when the files were picked one
   * by one. `handle`: the folder's own files (one level; subfolders are ignored).
   */
  constructor(picked: PickedFiles | DirectoryHandleLike | FileSystemDirectoryHandle, label?: string) {
    if (isDirectoryHandle(picked)) {
      this.dir = picked;
      this.label = label ?? picked.name;
      return;
    }
    const files = Array.from(picked as ArrayLike<File>);
    const map = new Map<string, Entry>();
    let top: string | null = null;
    for (const f of files) {
      const rel = (f as File & { webkitRelativePath?: string }).webkitRelativePath ?? '';
      const parts = rel.split('/').filter((p) => p !== '');
      let name = f.name;
      if (parts.length > 1) {
        top ??= parts[0]!;
        name = parts.slice(1).join('/');
      }
      map.set(name, f);
    }
    this.entries = map;
    this.label = label ?? top ?? (files.length === 1 ? files[0]!.name : 'picked files');
  }

  /** Convenience for `showDirectoryPicker()` results; lists the folder right away. */
  static async fromDirectory(handle: DirectoryHandleLike | FileSystemDirectoryHandle, label?: string): Promise<BrowserFilesSource> {
    const src = new BrowserFilesSource(handle, label);
    await src.list();
    return src;
  }

  /** Names of the files in the folder, sorted. */
  async names(): Promise<string[]> {
    return [...(await this.list()).keys()].sort();
  }

  private list(): Promise<Map<string, Entry>> {
    if (this.entries) return Promise.resolve(this.entries);
    this.listing ??= (async () => {
      const map = new Map<string, Entry>();
      for await (const entry of this.dir!.values()) {
        if (entry.kind === 'file') map.set(entry.name, entry as unknown as FileHandleLike);
      }
      this.entries = map;
      return map;
    })().catch((err: unknown) => {
      this.listing = null;
      throw new SourceError('network', this.label, null, `Could not list the folder "${this.label}": ${errMessage(err)}`, null, {
        cause: err,
      });
    });
    return this.listing;
  }

  private async file(name: string): Promise<File> {
    checkFileName(this.label, name);
    const entry = (await this.list()).get(name);
    if (!entry) {
      throw new SourceError('not-found', this.label, name, `Folder "${this.label}" has no file "${name}"`);
    }
    if (!isFileHandle(entry)) return entry;
    // A checkpoint is read tensor by tensor, so open each handle once rather than per range.
    let opened = this.opened.get(name);
    if (!opened) {
      opened = entry.getFile().catch((err: unknown) => {
        this.opened.delete(name);
        throw new SourceError('not-found', this.label, name, `Folder "${this.label}": could not open "${name}": ${errMessage(err)}`, null, {
          cause: err,
        });
      });
      this.opened.set(name, opened);
    }
    return opened;
  }

  private async read(name: string, blob: Blob): Promise<Uint8Array> {
    try {
      return new Uint8Array(await blob.arrayBuffer());
    } catch (err) {
      // e.g. NotReadableError when the file changed on disk after it was picked.
      throw new SourceError('network', this.label, name, `Folder "${this.label}": could not read "${name}": ${errMessage(err)}`, null, {
        cause: err,
      });
    }
  }

  async has(name: string): Promise<boolean> {
    checkFileName(this.label, name);
    return (await this.list()).has(name);
  }

  async bytes(name: string): Promise<Uint8Array> {
    return this.read(name, await this.file(name));
  }

  async text(name: string): Promise<string> {
    return decodeText(await this.bytes(name));
  }

  async size(name: string): Promise<number> {
    return (await this.file(name)).size;
  }

  async range(name: string, start: number, end: number): Promise<Uint8Array> {
    const f = await this.file(name);
    checkRange(this.label, name, start, end, f.size);
    return this.read(name, f.slice(start, end));
  }
}

function isDirectoryHandle(x: unknown): x is DirectoryHandleLike {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'directory' && typeof (x as { values?: unknown }).values === 'function';
}

function isFileHandle(x: Entry): x is FileHandleLike {
  return typeof (x as { getFile?: unknown }).getFile === 'function';
}

function errMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
