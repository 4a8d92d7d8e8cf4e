#!/usr/bin/env node
// solo5-switch: a rootless learning Ethernet switch on a UNIX stream socket; see lib/switchd/cli.ts.
import { main } from '../lib/switchd/cli.js';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
