#!/usr/bin/env node
// solo5-virtio-run: run a Solo5 virtio unikernel under QEMU; see lib/cli/virtio-run.ts.
import { main } from '../lib/cli/virtio-run';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
