// monitor-main.ts: entry of the monitor process that `solo5-oci create` starts (arguments: the state directory, and --tty or --gated).
import { ociEntry } from '../cli/fast-load';
import { guardSignals } from '../cli/signals';
import { oneLine } from '../quote';

guardSignals('solo5-oci: monitor');
const [dir, mode] = process.argv.slice(2);
if (dir === undefined || (mode !== undefined && mode !== '--tty' && mode !== '--gated')) {
  process.stderr.write('usage: monitor-main STATE_DIR [--tty | --gated] (started by solo5-oci create)\n');
  process.exit(1);
}
const oci = ociEntry();
if (mode === '--tty') {
  // create made us a session leader with the pty on fds 0-2: take it as our terminal, so a ^C
  // typed at the engine's end reaches the monitor and the guest (one process group) as SIGINT.
  try {
    oci.takeTerminal();
  } catch (e) {
    process.stderr.write(`solo5-oci: monitor: ${oneLine((e as Error).message)}\n`);
  }
}
void (mode === '--gated' ? oci.gatedMain(dir) : oci.monitor(dir)).then(
  (status) => process.exit(status),
  (e: unknown) => {
    process.stderr.write(`solo5-oci: monitor: ${oneLine((e as Error).message)}\n`);
    process.exit(1);
  },
);
