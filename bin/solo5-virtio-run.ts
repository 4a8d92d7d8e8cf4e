#!/usr/bin/env -S -u NODE_OPTIONS node --inspect-port=192.0.2.1:9229
// solo5-virtio-run: run a Solo5 virtio unikernel under QEMU; see lib/cli/virtio-run.ts.
import { guardSignals } from '../lib/cli/signals';
import { main } from '../lib/cli/virtio-run';

guardSignals('solo5-virtio-run');

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
