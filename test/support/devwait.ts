// devwait.ts: builds a Solo5-ABI test guest that acquires its net and block devices, prints READY and waits to be killed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { root } from './paths';

const SOURCE = `#include "solo5.h"
/* devwait: acquires the devices its manifest declares, says READY, then yields until it is killed. */
static const char ready[] = "READY\\n";
static const char failed[] = "ACQUIRE FAILED\\n";
int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    solo5_handle_t h;
#ifdef WITH_NET
    struct solo5_net_info ni;
    if (solo5_net_acquire("service", &h, &ni) != SOLO5_R_OK) {
        solo5_console_write(failed, sizeof failed - 1);
        return 2;
    }
#endif
#ifdef WITH_BLOCK
    struct solo5_block_info bi;
    if (solo5_block_acquire("storage", &h, &bi) != SOLO5_R_OK) {
        solo5_console_write(failed, sizeof failed - 1);
        return 2;
    }
#endif
    solo5_console_write(ready, sizeof ready - 1);
    for (;;)
        solo5_yield(solo5_clock_monotonic() + 3600ULL * 1000000000ULL, 0);
}
`;

/**
 * devwait.spt or .hvt (Solo5's ABI) in `dir`, declaring net device "service" and/or block device
 * "storage"; built with solo5-build, the command users run.
 */
export function buildDevWait(dir: string, devices: { net: boolean; block: boolean }, target: 'spt' | 'hvt' = 'spt'): string {
  const name = `devwait${devices.net ? '-net' : ''}${devices.block ? '-block' : ''}`;
  const src = path.join(dir, `${name}.c`);
  const mft = path.join(dir, `${name}.json`);
  const out = path.join(dir, `${name}.${target}`);
  fs.writeFileSync(src, SOURCE);
  const list = [
    ...(devices.net ? [{ name: 'service', type: 'NET_BASIC' }] : []),
    ...(devices.block ? [{ name: 'storage', type: 'BLOCK_BASIC' }] : []),
  ];
  fs.writeFileSync(mft, JSON.stringify({ type: 'solo5.manifest', version: 1, devices: list }));
  const flags = [...(devices.net ? ['--cflag=-DWITH_NET'] : []), ...(devices.block ? ['--cflag=-DWITH_BLOCK'] : [])];
  const r = spawnSync(
    process.execPath,
    [
      path.join(root, 'dist', 'bin', 'solo5-build.js'),
      '--abi=solo5',
      `--target=${target}`,
      ...flags,
      `--manifest=${mft}`,
      `--output=${out}`,
      src,
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`solo5-build ${name}: ${r.stderr.trim()}`);
  return out;
}
