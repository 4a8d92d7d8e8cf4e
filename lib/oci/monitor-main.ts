// monitor-main.ts: entry of the monitor process that `solo5-oci create` starts (argument: the state directory).
import { monitor } from './monitor';

const dir = process.argv[2];
if (dir === undefined) {
  process.stderr.write('usage: monitor-main STATE_DIR (started by solo5-oci create)\n');
  process.exit(1);
}
void monitor(dir).then(
  (status) => process.exit(status),
  (e: unknown) => {
    process.stderr.write(`solo5-oci: monitor: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
