#!/usr/bin/env node
// Entry for `npx tug`: registers the TypeScript loader, then runs the CLI. `tug agent` runs the node
// agent alone as bundled plain JavaScript (bin/_agent.js): no loader, no control-plane code.
// TUG_AGENT_BUNDLE=0 runs it through the loader like every other command.
if (process.argv[2] === "agent" && process.env.TUG_AGENT_BUNDLE !== "0") {
  const { runBundledAgent } = await import("./_agent.js");
  if (!(await runBundledAgent())) await runSources();
} else {
  await runSources();
}

async function runSources() {
  const { register } = await import("tsx/esm/api");
  register();
  await import("../src/cmd/tug.ts");
}
