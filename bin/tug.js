#!/usr/bin/env node
// Entry for `npx tug`: registers the TypeScript loader, then runs the CLI.
import { register } from "tsx/esm/api";
register();
await import("../src/cmd/tug.ts");
