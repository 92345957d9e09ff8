// The command line of a bench script: its options parsed by node's parseArgs (plus -h, --help),
// a mistake said with the usage and exit 2, --help printed with exit 0.
import { parseArgs } from 'node:util';

/** The values of `options` (parseArgs' spec) on this process's arguments; `usage` is the help text. */
export function benchOptions(options, usage) {
  let values;
  try {
    values = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h', default: false } } }).values;
  } catch (e) {
    console.error(`${e.message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}
