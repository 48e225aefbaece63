/**
 * A real browser for the web pages' tests: Debian's chromium, driven by playwright-core. Where
 * /usr/bin/chromium is missing those tests are skipped with a notice, except under CI=true, where
 * they fail instead. Also: the accessibility check (axe-core, run in the page) and screenshots at
 * desktop and phone widths, written to test-results/screenshots/ at every run (docs/screenshots/
 * keeps a copy for the README).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { after } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = resolve(import.meta.dirname, '../../../test-results/screenshots');

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

/** Why the browser cannot be used, or undefined when it can. */
export function browserProblem(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (apt-get install chromium)`;
}

/**
 * Launches headless chromium, with `extraArgs` after its usual flags; closed when the calling
 * test file ends. Playwright gives every launch a fresh, temporary profile (--user-data-dir) of
 * its own.
 */
export async function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Flags that keep chromium from reaching out to the (closed) network and hanging.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
  after(() => browser.close());
  return browser;
}

const AXE_SOURCE = readFileSync(
  createRequire(import.meta.url).resolve('axe-core/axe.min.js'),
  'utf8',
);

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[] }[];
}

/**
 * Runs axe-core on the page and returns its serious and critical violations, described. The
 * page's CSP forbids inline scripts, so axe cannot come in as a script tag: it is evaluated
 * through the DevTools protocol instead, which the CSP does not govern.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate<AxeViolation[]>(
    'axe.run(document, { resultTypes: ["violations"] }).then((result) => result.violations)',
  );
  return violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map(
      (violation) =>
        `${violation.impact ?? ''} ${violation.id}: ${violation.help} (${JSON.stringify(
          violation.nodes.map((node) => node.target),
        )})`,
    );
}

/** Saves `name`-desktop.png and `name`-phone.png (whole pages), then returns to desktop size. */
export async function screenshots(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    await page.setViewportSize(viewport);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${size}.png`), fullPage: true });
  }
  await page.setViewportSize(DESKTOP);
}
