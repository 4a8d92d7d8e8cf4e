#!/usr/bin/env node
// solo5-spt: run a Solo5 unikernel as a seccomp-confined process.
import { main } from '../lib/cli/tender';

void main(process.argv.slice(2), 'spt').then((code) => process.exit(code));
