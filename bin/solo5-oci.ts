#!/usr/bin/env node
// solo5-oci: an OCI runtime (runc's command line) that runs a Solo5 unikernel as the container.
import { ociEntry } from '../lib/cli/fast-load';

void ociEntry()
  .main(process.argv.slice(2))
  .then((code) => process.exit(code));
