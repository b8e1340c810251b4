/**
 * The sample action `brisk up` deploys and invokes: greets `name` (default World) and logs a line.
 * Try: brisk action invoke hello -p name Ada --result
 */
function main({ name = 'World' }) {
  console.log(`greeting ${name}`);
  return { greeting: `Hello, ${name}!` };
}
