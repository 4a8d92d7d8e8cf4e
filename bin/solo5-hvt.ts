#!/usr/bin/env node
// solo5-hvt: run a Solo5 unikernel in a KVM virtual machine.
import path from 'node:path';
import { tenderCli } from '../lib/cli/fast-load';

void tenderCli()
  .main(process.argv.slice(2), 'hvt', path.basename(process.argv[1] ?? 'solo5-hvt'))
  .then((code) => process.exit(code));
