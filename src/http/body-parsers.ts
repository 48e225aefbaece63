/**
 * Strict parsers for form bodies, the way the course's Flask app reads `request.form`
 * (urlencoded or multipart). Strict means: a body that is not well-formed is a 400, never read as
 * best it can; file parts are refused; a repeated field becomes an array, which the route schemas
 * then refuse. Both parsers see the whole body, so Fastify's body limit (413) applies to both.
 */
import { Busboy } from '@fastify/busboy';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** Field name to value, or to every value when the field was repeated. No prototype. */
export type FormFields = Record<string, string | string[]>;

/** A client error in a body's encoding; Fastify's error handler keeps its status. */
export class MalformedBodyError extends Error {
  readonly code = 'BIENVENUE_MALFORMED_BODY';
  constructor(
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
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
 * Parses `a=1&b=two+words`; throws {@link MalformedBodyError} on bad percent-encoding or more
 * than `maxFields` fields.
 */
export function parseUrlencoded(body: string, maxFields: number): FormFields {
  const fields: FormFields = Object.create(null) as FormFields;
  let count = 0;
  for (const pair of body.split('&')) {
    if (pair === '') continue;
    count += 1;
    if (count > maxFields) throw new MalformedBodyError('Too many fields', 413);
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
      reject(new MalformedBodyError('Malformed multipart body (no boundary?)'));
      return;
    }
    const fields: FormFields = Object.create(null) as FormFields;
    let refusal: MalformedBodyError | undefined;
    parser.on('field', (name, value, nameTruncated) => {
      if (nameTruncated) refusal ??= new MalformedBodyError('A field name is too long');
      else addField(fields, name, value);
    });
    parser.on('file', (_name, stream) => {
      // A file part cut short errors on its own stream; the parser reports the body as malformed.
      stream.on('error', () => undefined);
      stream.resume();
      refusal ??= new MalformedBodyError('File uploads are not accepted');
    });
    const tooMany = () => (refusal ??= new MalformedBodyError('Too many fields', 413));
    parser.on('fieldsLimit', tooMany);
    parser.on('partsLimit', tooMany);
    parser.on('error', () => {
      reject(new MalformedBodyError('Malformed multipart body'));
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
    throw new MalformedBodyError('The form is not valid percent-encoded UTF-8');
  }
}

function addField(fields: FormFields, name: string, value: string): void {
  const earlier = fields[name];
  if (earlier === undefined) fields[name] = value;
  else if (Array.isArray(earlier)) earlier.push(value);
  else fields[name] = [earlier, value];
}
