#!/usr/bin/env node
// solo5-build: build a Solo5 unikernel from C sources and a JSON manifest; see lib/cli/build.ts.
import { main } from '../lib/cli/build';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
