/**
 * HTML built by tagged templates: every interpolated value is escaped unless it is itself
 * {@link Html} (the output of another template), so text from users or requests can never become
 * markup. Arrays are joined; `undefined`, `null` and `false` render as nothing.
 */

/** A fragment of markup that is safe to insert as is. */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlValue = Html | string | number | false | null | undefined | readonly HtmlValue[];

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `text` with the characters that mean something in HTML (and in attributes) escaped. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => ESCAPES[character] ?? character);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return (value as readonly HtmlValue[]).map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

/** The tagged template: html`<p>${text}</p>`. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let text = strings[0] ?? '';
  values.forEach((value, index) => {
    text += render(value) + (strings[index + 1] ?? '');
  });
  return new Html(text);
}

/**
 * Attributes from a record: `true` gives a bare boolean attribute, `false` and `undefined` leave
 * it out, anything else is escaped: attributes({ type: 'email', required: true }).
 */
export function attributes(record: Readonly<Record<string, string | boolean | undefined>>): Html {
  let text = '';
  for (const [name, value] of Object.entries(record)) {
    if (value === true) text += ` ${name}`;
    else if (typeof value === 'string') text += ` ${name}="${escapeHtml(value)}"`;
  }
  return new Html(text);
}
