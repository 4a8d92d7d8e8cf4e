#!/usr/bin/env -S -u NODE_OPTIONS node --inspect-port=192.0.2.1:9229
// solo5-build: build a Solo5 unikernel from C sources and a JSON manifest; see lib/cli/build.ts.
import { guardSignals } from '../lib/cli/signals';
import { main } from '../lib/cli/build';

guardSignals('solo5-build');

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
