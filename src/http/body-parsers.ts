/**
 * Strict parsers for form bodies, the way the course's Flask app reads `request.form`
 * (urlencoded or multipart). Strict means: a body that is not well-formed is a 400, never read as
 * best it can; file parts are refused; a repeated field becomes an array, which the route schemas
 * then refuse. Both parsers see the whole body, so Fastify's body limit (413) applies to both.
 */
import { Busboy } from '@fastify/busboy';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Refusal, type RefusalCode } from './refusals.js';

/** Field name to value, or to every value when the field was repeated. No prototype. */
export type FormFields = Record<string, string | string[]>;

/** A client error in a body's encoding, a refusal of the catalogue. */
export class MalformedBodyError extends Refusal {
  readonly code = 'BIENVENUE_MALFORMED_BODY';
  constructor(message: string, refusal: RefusalCode) {
    super(refusal, message);
    this.name = 'MalformedBodyError';
  }
}

/** Registers the form parsers and drops Fastify's text/plain parser (such bodies get 415). */
export function registerFormParsers(app: FastifyInstance, maxFields: number): void {
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      try {
        done(null, parseUrlencoded(body as string, maxFields));
      } catch (error) {
        done(error as Error);
      }
    },
  );
  app.addContentTypeParser(
    'multipart/form-data',
    { parseAs: 'buffer' },
    (request: FastifyRequest, body: Buffer) =>
      parseMultipart(body, request.headers['content-type'] ?? '', maxFields),
  );
}

/**
 * Replaces Fastify's JSON parser by one that also refuses a key repeated within one object, at
 * any depth (400 `duplicate_json_key`): `JSON.parse` would silently keep the last one. Fastify's
 * own parser still does the parsing, so its refusal of `__proto__` and `constructor.prototype`
 * keys (proto poisoning), of empty bodies and of broken JSON is kept as it is.
 */
export function registerJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'string' },
    (request, body, done: (error: Error | null, value?: unknown) => void) => {
      void parseJson(request, body as string, (error, value: unknown) => {
        const repeated = error === null ? firstRepeatedKey(body as string) : undefined;
        if (repeated === undefined) {
          done(error, value);
          return;
        }
        done(
          new MalformedBodyError(
            `The JSON key ${JSON.stringify(repeated)} is given more than once in an object`,
            'duplicate_json_key',
          ),
        );
      });
    },
  );
}

/**
 * The first key found twice in one object of `text`, or undefined. `text` must be valid JSON
 * (parse it first): then a quote opens a string wherever it appears outside one, and a string is a
 * key exactly when it follows `{` or a comma inside an object. Keys are compared decoded, so
 * `"a"` and `"\u0061"` are the same key, as `JSON.parse` sees them.
 */
export function firstRepeatedKey(text: string): string | undefined {
  // The keys seen in each enclosing object; null for an array.
  const containers: (Set<string> | null)[] = [];
  let keyExpected = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (char === '"') {
      let end = index + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const keys = containers.at(-1);
      if (keyExpected && keys) {
        const key = JSON.parse(text.slice(index, end + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        keyExpected = false;
      }
      index = end;
    } else if (char === '{') {
      containers.push(new Set());
      keyExpected = true;
    } else if (char === '[') {
      containers.push(null);
    } else if (char === '}' || char === ']') {
      containers.pop();
    } else if (char === ',') {
      keyExpected = Boolean(containers.at(-1));
    }
  }
  return undefined;
}

/**
 * Parses `a=1&b=two+words`; throws {@link MalformedBodyError} on bad percent-encoding or more
 * than `maxFields` fields.
 */
export function parseUrlencoded(body: string, maxFields: number): FormFields {
  const fields: FormFields = Object.create(null) as FormFields;
  let count = 0;
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    count += 1;
    if (count > maxFields) throw new MalformedBodyError('Too many fields', 'too_many_fields');
    const separator = pair.indexOf('=');
    const name = separator === -1 ? pair : pair.slice(0, separator);
    const value = separator === -1 ? '' : pair.slice(separator + 1);
    addField(fields, decodeFormComponent(name), decodeFormComponent(value));
  }
  return fields;
}

/** Parses a whole multipart/form-data body of text fields. */
export function parseMultipart(
  body: Buffer,
  contentType: string,
  maxFields: number,
): Promise<FormFields> {
  return new Promise((resolve, reject) => {
    let parser;
    try {
      parser = Busboy({
        headers: { 'content-type': contentType },
        limits: { fields: maxFields, parts: maxFields, fieldSize: body.length, headerPairs: 16 },
      });
    } catch {
      reject(
        new MalformedBodyError('Malformed multipart body (no boundary?)', 'malformed_multipart'),
      );
      return;
    }
    const fields: FormFields = Object.create(null) as FormFields;
    let refusal: MalformedBodyError | undefined;
    parser.on('field', (name, value, nameTruncated) => {
      if (nameTruncated)
        refusal ??= new MalformedBodyError('A field name is too long', 'field_name_too_long');
      else addField(fields, name, value);
    });
    parser.on('file', (_name, stream) => {
      // A file part cut short errors on its own stream; the parser reports the body as malformed.
      stream.on('error', () => undefined);
      stream.resume();
      refusal ??= new MalformedBodyError('File uploads are not accepted', 'file_upload_refused');
    });
    const tooMany = () =>
      (refusal ??= new MalformedBodyError('Too many fields', 'too_many_fields'));
    parser.on('fieldsLimit', tooMany);
    parser.on('partsLimit', tooMany);
    parser.on('error', () => {
      reject(new MalformedBodyError('Malformed multipart body', 'malformed_multipart'));
    });
    parser.on('finish', () => {
      if (refusal === undefined) resolve(fields);
      else reject(refusal);
    });
    parser.end(body);
  });
}

function decodeFormComponent(component: string): string {
  try {
    return decodeURIComponent(component.replaceAll('+', ' '));
  } catch {
    throw new MalformedBodyError('The form is not valid percent-encoded UTF-8', 'malformed_form');
  }
}

function addField(fields: FormFields, name: string, value: string): void {
  const earlier = fields[name];
  if (earlier === undefined) fields[name] = value;
  else if (Array.isArray(earlier)) earlier.push(value);
  else fields[name] = [earlier, value];
}
