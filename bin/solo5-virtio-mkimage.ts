#!/usr/bin/env -S -u NODE_OPTIONS node --inspect-port=192.0.2.1:9229
// solo5-virtio-mkimage: build a bootable disk image of a Solo5 virtio unikernel; see lib/cli/virtio-mkimage.ts.
import { guardSignals } from '../lib/cli/signals';
import { main } from '../lib/cli/virtio-mkimage';

guardSignals('solo5-virtio-mkimage');

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
