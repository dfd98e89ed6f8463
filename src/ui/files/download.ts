import { makeZip } from '../../util/zip';

/** Hand bytes to the browser as a file download (an object URL on a temporary link). */
export function downloadBytes(name: string, bytes: Uint8Array, type = 'application/octet-stream'): void {
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Give the download a moment to start before the URL goes away.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The safe file-name part of a label (model, run name). */
export function slug(label: string, fallback = 'file'): string {
  return label.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || fallback;
}

/** The two PEFT files of an adapter as one zip (stored entries, byte-identical for identical files). */
export function adapterZip(files: Record<string, Uint8Array>): Uint8Array {
  return makeZip(Object.entries(files).map(([name, data]) => ({ name, data })));
}
