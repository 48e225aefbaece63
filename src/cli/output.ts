/**
 * How commands print results: aligned plain-text tables and `key  value` listings for people,
 * indented JSON (one document per run) for scripts. Absent values print as `-`.
 *
 * Nothing a terminal could act on is ever printed: values come from users (a user agent, say),
 * and C0 and C1 control characters, DEL and the bidirectional controls are written as `\uXXXX`
 * instead, in tables, listings and JSON alike (in JSON that is the same string, escaped). Every
 * stream a command writes to goes through {@link escapingStream}, so that messages built
 * elsewhere are escaped too; there, newlines are the CLI's own line breaks and pass.
 */
import { Writable } from 'node:stream';

/** Control characters but the newline: C0, DEL, C1, and the bidi embeddings and isolates. */
// Matching control characters is the point here.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
/** The same, and the newline. */
// eslint-disable-next-line no-control-regex
const CONTROLS_AND_NEWLINE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const escaped = (character: string): string =>
  `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * `text` with every control character written as `\uXXXX`; newlines too, unless `keepNewlines`
 * (for text whose line breaks are the CLI's own).
 */
export function escapeControls(text: string, options: { keepNewlines?: boolean } = {}): string {
  return text.replace(options.keepNewlines === true ? CONTROLS : CONTROLS_AND_NEWLINE, escaped);
}

/** A stream that writes everything to `target` with its control characters escaped. */
export function escapingStream(target: NodeJS.WritableStream): NodeJS.WritableStream {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      // The target buffers and flushes on its own; waiting for it here would only delay output.
      target.write(escapeControls(chunk.toString(), { keepNewlines: true }));
      done();
    },
  });
}

/** One result as JSON, followed by a newline. */
export function json(value: unknown): string {
  const text = JSON.stringify(
    value,
    (_key, item: unknown) => (item === undefined ? null : item),
    2,
  );
  // JSON.stringify escapes C0 inside strings already, but neither C1 nor the bidi controls.
  return `${escapeControls(text, { keepNewlines: true })}\n`;
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

/** A value as one line of text: a newline in it would forge a row, so it is escaped too. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return escapeControls(value);
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  return escapeControls(JSON.stringify(value));
}
