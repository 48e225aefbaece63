/**
 * The QR code an authenticator app scans to add an account: the `otpauth://` URL drawn as SVG on
 * the server by the `qrcode` library. The picture is paths only (no text, no script, no link), so
 * it can be put in a page as it is, under a policy that allows no script; the URL it encodes is
 * never written into the markup.
 */
import { createRequire } from 'node:module';
import type QRCodeModule from 'qrcode';
import { Html } from './html.js';

// Loaded when a QR code is first drawn: most starts never need it. Required, not imported: see
// auth/passkeys/index.ts.
const require = createRequire(import.meta.url);

/**
 * `otpauthUrl` as a QR code, SVG markup. Error correction M (the library's default) and a quiet
 * zone of 4 modules, as the QR specification asks, so that phone cameras read it at a glance.
 */
export async function qrCodeSvg(otpauthUrl: string): Promise<string> {
  const QRCode = require('qrcode') as typeof QRCodeModule;
  return QRCode.toString(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
}

/** {@link qrCodeSvg} as a fragment of a page, labelled for screen readers. */
export async function qrCodeFigure(otpauthUrl: string): Promise<Html> {
  const svg = await qrCodeSvg(otpauthUrl);
  // The library's markup, made from our URL alone; the label says what it is.
  return new Html(
    svg.replace('<svg ', '<svg role="img" aria-label="QR code for your authenticator app" '),
  );
}
