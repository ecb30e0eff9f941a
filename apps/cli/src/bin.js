#!/usr/bin/env node
// The `foundry` executable. Node's compile cache (in the OS temp directory) keeps the compiled,
// type-stripped modules of the CLI, which halves the start-up of every later run. It must be on
// before they load, hence this file; plain JavaScript, so that no TypeScript is stripped on a
// cached run.
import { enableCompileCache } from "node:module";

enableCompileCache();
await import("./main.ts");
