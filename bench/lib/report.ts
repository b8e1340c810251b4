/** Writing a benchmark's figures into docs/benchmarks.md, between its own markers. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (bench/lib → dist/bench/lib when built). */
export const ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../' : '../../../', import.meta.url));

/**
 * Replaces the section between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in docs/benchmarks.md
 * with the table text and the JSON of this run.
 */
export async function writeBenchSection(name: string, text: string, result: unknown): Promise<void> {
  const file = join(ROOT, 'docs/benchmarks.md');
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const doc = await readFile(file, 'utf8');
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file} has no ${begin} … ${end} section`);
  const section = `${begin}\n\`\`\`\n${text}\n\`\`\`\n\n<details><summary>JSON</summary>\n\n\`\`\`json\n${JSON.stringify(result, null, 2)}\n\`\`\`\n</details>\n${end}`;
  await writeFile(file, doc.slice(0, a) + section + doc.slice(b + end.length));
}
