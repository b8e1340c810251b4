import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The directory of brisk's package.json, found by walking up from this module: the same answer
 * from src/ (tests) and from dist/src/ (the built CLI).
 */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'samples'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`brisk's package root was not found above ${from}`);
    dir = parent;
  }
}

/** The sample action `brisk up` deploys. */
export function sampleActionFile(): string {
  return join(packageRoot(), 'samples', 'hello.js');
}
