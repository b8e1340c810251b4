/**
 * Prints one plain closing line after the run — `tests: N passed, N failed, N skipped` — with no
 * colour, so that CI logs and scripts can read the outcome without parsing vitest's own output.
 * It also fails the run when action containers started by the tests outlive them (leak-check.ts).
 */
import type { Reporter, TestModule } from 'vitest/node';
import { watchContainers } from './leak-check.js';

export default class SummaryReporter implements Reporter {
  #leaks: (() => Promise<string[]>) | undefined;

  onInit(): void {
    this.#leaks = watchContainers();
  }

  async onTestRunEnd(testModules: ReadonlyArray<TestModule>): Promise<void> {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed += 1;
        else if (state === 'failed') failed += 1;
        else skipped += 1;
      }
      // A file that failed to load has no tests but must not read as a clean run.
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) failed += 1;
    }
    const leaked = (await this.#leaks?.()) ?? [];
    if (leaked.length > 0) {
      process.stdout.write(`\naction containers outlived the tests (killed now): ${leaked.join(', ')}\n`);
      failed += 1;
      process.exitCode = 1;
    }
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
