/** Reading the mails of the in-process SMTP server (smtp.ts): their recipient and their links. */
import type { ParsedMail } from 'mailparser';

/** The first recipient's address of `mail`. */
export function recipientOf(mail: ParsedMail): string | undefined {
  const to = Array.isArray(mail.to) ? mail.to[0] : mail.to;
  return to?.value[0]?.address;
}

/** Every http(s) URL in `mail`'s text. */
export function linksOf(mail: ParsedMail): string[] {
  return [...(mail.text ?? '').matchAll(/https?:\/\/\S+/g)].map((match) => match[0]);
}

/** The token of the link to `path` in `mail`; throws when there is none. */
export function tokenOf(mail: ParsedMail, path: string): string {
  const link = linksOf(mail).find((url) => new URL(url).pathname === path);
  const token = link === undefined ? null : new URL(link).searchParams.get('token');
  if (token === null) throw new Error(`no ${path} link in: ${mail.text ?? ''}`);
  return token;
}

/** The one item of `items`; throws unless there is exactly one. */
export function single<T>(items: readonly T[], what = 'mail'): T {
  const [item, ...more] = items;
  if (item === undefined || more.length > 0)
    throw new Error(`expected one ${what}, got ${items.length}`);
  return item;
}
