#!/usr/bin/env node
// solo5-virtio-mkimage: build a bootable disk image of a Solo5 virtio unikernel; see lib/cli/virtio-mkimage.ts.
import { main } from '../lib/cli/virtio-mkimage';

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
