#!/usr/bin/env node
// solo5-spt: run a Solo5 unikernel as a seccomp-confined process.
import path from 'node:path';
import { tenderCli } from '../lib/cli/fast-load';

void tenderCli()
  .main(process.argv.slice(2), 'spt', path.basename(process.argv[1] ?? 'solo5-spt'))
  .then((code) => process.exit(code));
