#!/usr/bin/env -S -u NODE_OPTIONS node --inspect-port=192.0.2.1:9229
// solo5-elftool: builds and inspects the Solo5 notes of unikernel ELF files; see lib/cli/elftool.ts.
import { guardSignals } from '../lib/cli/signals';
import { main } from '../lib/cli/elftool.js';

guardSignals('solo5-elftool');

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
