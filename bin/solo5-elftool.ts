#!/usr/bin/env node
// solo5-elftool: builds and inspects the Solo5 notes of unikernel ELF files; see lib/cli/elftool.ts.
import { main } from '../lib/cli/elftool.js';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
