#!/usr/bin/env -S -u NODE_OPTIONS node --inspect-port=192.0.2.1:9229
// solo5-switch: a rootless learning Ethernet switch on a UNIX stream socket; see lib/switchd/cli.ts.
import { guardSignals } from '../lib/cli/signals';
import { main } from '../lib/switchd/cli.js';

guardSignals('solo5-switch');

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
