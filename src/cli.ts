/**
 * `npm run -s cli -- <command>`: see USAGE for the commands and exit codes. Each command's module
 * is loaded on demand, so `check` does not pay for loading the parser and the Confluence client.
 */
import { EXIT, USAGE, usage } from './cli/usage.ts';

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  parse: async () => (await import('./cli/page-commands.ts')).parseCommand,
  preview: async () => (await import('./cli/page-commands.ts')).previewCommand,
  status: async () => (await import('./cli/api-commands.ts')).statusCommand,
  check: async () => (await import('./cli/api-commands.ts')).checkCommand,
  sync: async () => (await import('./cli/api-commands.ts')).syncCommand,
  approve: async () => (await import('./cli/api-commands.ts')).approveCommand,
  reject: async () => (await import('./cli/api-commands.ts')).rejectCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return EXIT.ok;
  }
  const load = name === undefined ? undefined : Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (load === undefined) return usage(name === undefined ? undefined : `unknown command "${name}"`);
  try {
    return await (
      await load()
    )(rest);
  } catch (error) {
    // node:util parseArgs: an unknown option or a missing option value.
    if (String((error as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS'))
      return usage((error as Error).message);
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
