/**
 * A directory listing as an HTML page, as python's http.server and
 * http-server show one: a link per entry (directories first, each name
 * HTML-escaped and its link percent-encoded), its size and its modification
 * time. Bounded: at most MAX_ENTRIES entries are listed, the rest counted.
 */
import { opendir, stat } from 'node:fs/promises';
import path from 'node:path';

export const MAX_ENTRIES = 10_000;

export interface Entry {
  name: string;
  directory: boolean;
  /** Bytes, for files. */
  size: number | null;
  mtime: Date | null;
}

/** The directory's entries, directories first, then by name; dot names left out unless `dotfiles`. */
export async function readEntries(dir: string, dotfiles: boolean): Promise<{ entries: Entry[]; more: number }> {
  const entries: Entry[] = [];
  let more = 0;
  const handle = await opendir(dir);
  for await (const d of handle) {
    if (!dotfiles && d.name.startsWith('.')) continue;
    if (entries.length >= MAX_ENTRIES) {
      more++;
      continue;
    }
    // stat follows symbolic links, so a link to a directory is listed as one (serving it still checks where it leads).
    const s = await stat(path.join(dir, d.name)).catch(() => null);
    entries.push({ name: d.name, directory: s?.isDirectory() ?? d.isDirectory(), size: s?.isFile() ? s.size : null, mtime: s?.mtime ?? null });
  }
  entries.sort((a, b) => Number(b.directory) - Number(a.directory) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { entries, more };
}

/** The page for `urlPath` (the request's path, ending in "/"). */
export function renderListing(urlPath: string, entries: readonly Entry[], more: number): string {
  const title = `Index of ${escapeHtml(safeDecode(urlPath))}`;
  const rows = entries.map((e) => {
    const name = e.directory ? `${e.name}/` : e.name;
    const href = encodeURIComponent(e.name) + (e.directory ? '/' : '');
    const size = e.size === null ? '-' : formatSize(e.size);
    const when = e.mtime ? e.mtime.toISOString().replace('T', ' ').slice(0, 19) : '-';
    return `<tr><td><a href="${href}">${escapeHtml(name)}</a></td><td class="n">${size}</td><td>${when}</td></tr>`;
  });
  if (urlPath !== '/') rows.unshift('<tr><td><a href="../">../</a></td><td class="n">-</td><td></td></tr>');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title>
<style>body{font-family:monospace}td{padding:0 1.5em 0 0}.n{text-align:right}</style></head>
<body><h1>${title}</h1>
<table><thead><tr><th align="left">Name</th><th class="n">Size</th><th align="left">Modified (UTC)</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>${more > 0 ? `\n<p>… and ${more} more entries not listed</p>` : ''}
</body></html>
`;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** 1234 → "1234", 123456 → "120.6K": short like `ls -h`, exact below 10 KiB. */
function formatSize(bytes: number): string {
  if (bytes < 10 * 1024) return String(bytes);
  const units = ['K', 'M', 'G', 'T'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)}${units[i]}`;
}
