#!/usr/bin/env -S -u NODE_OPTIONS node --inspect-port=192.0.2.1:9229
// solo5-oci: an OCI runtime (runc's command line) that runs a Solo5 unikernel as the container.
import { guardSignals } from '../lib/cli/signals';
import { ociEntry } from '../lib/cli/fast-load';

guardSignals('solo5-oci');

void ociEntry()
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
