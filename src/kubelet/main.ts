/**
 * Agent-only entry of the `tug` command line: `tug agent …` without the rest of the CLI, so the
 * node agent's process never loads the apiserver, scheduler (and its WASM), controllers or the
 * embedded store. bin/tug.js runs it (bundled to plain JavaScript, see bin/_agent.js) when the first
 * argument is `agent`; flags, output and exit codes are those of `tug agent` in src/cmd/tug.ts,
 * which registers the same command through `addAgentCommand`.
 */
import { Command, CommanderError } from "commander";
import { addAgentCommand } from "./cli.ts";

/** Prints one line on stderr and exits 1 (the contract for every start-up failure, as in src/cmd/tug.ts). */
function fail(message: string): never {
  process.stderr.write(`tug: ${message.replace(/\s*\n\s*/g, " ")}\n`);
  process.exit(1);
}

const program = new Command()
  .name("tug")
  .description("Tugboat: a Kubernetes-compatible container orchestrator")
  .showHelpAfterError()
  .exitOverride();
addAgentCommand(program, fail);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  throw err;
}
