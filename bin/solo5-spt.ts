#!/usr/bin/env -S -u NODE_OPTIONS node --inspect-port=192.0.2.1:9229
// solo5-spt: run a Solo5 unikernel as a seccomp-confined process.
import { guardSignals } from '../lib/cli/signals';
import path from 'node:path';
import { tenderCli } from '../lib/cli/fast-load';

guardSignals('solo5-spt');

void tenderCli()
  .main(process.argv.slice(2), 'spt', path.basename(process.argv[1] ?? 'solo5-spt'))
  .then((code) => {
    // Not process.exit(): device events the broker queued before it stopped are delivered first, not during teardown.
    process.exitCode = code;
  });
