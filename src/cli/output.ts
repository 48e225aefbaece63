/**
 * How commands print results: aligned plain-text tables and `key  value` listings for people,
 * indented JSON (one document per run) for scripts. Absent values print as `-`.
 */

/** One result as JSON, followed by a newline. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, (_key, item: unknown) => (item === undefined ? null : item), 2)}\n`;
}

/** A table with a header row; every column as wide as its widest cell. */
export function table(headers: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const cells = [headers, ...rows.map((row) => row.map(cell))];
  const widths = headers.map((_header, index) =>
    Math.max(...cells.map((row) => (row[index] ?? '').length)),
  );
  return cells
    .map((row) =>
      row
        .map((text, index) => text.padEnd(widths[index] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .map((line) => `${line}\n`)
    .join('');
}

/** `key  value` lines, keys aligned. */
export function listing(entries: readonly (readonly [string, unknown])[]): string {
  const width = Math.max(...entries.map(([key]) => key.length));
  return entries.map(([key, value]) => `${key.padEnd(width)}  ${cell(value)}\n`).join('');
}

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}
