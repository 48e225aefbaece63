/** Temporary files for tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A temporary folder removed when the calling test file ends. */
export function temporaryDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), 'bienvenue-test-'));
  after(() => {
    rmSync(directory, { recursive: true, force: true });
  });
  return directory;
}
