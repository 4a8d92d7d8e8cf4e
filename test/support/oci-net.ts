// oci-net.ts: network namespaces the OCI tests make (a veth to the host, eth0 inside) and the netip example guest.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { root } from './paths';

export const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });

/** A namespace with eth0 (ADDR/24, default route via the host end) and the host end of its veth. */
export function makeNamespace(t: { teardown(fn: () => void): void }, seed: number): { name: string; addr: string; host: string } {
  const n = seed % 200;
  const name = `sn-oci-${seed}`;
  const veth = `snv${seed % 100000}`;
  const host = `10.213.${n}.1`;
  const addr = `10.213.${n}.2`;
  t.teardown(() => {
    sh(`ip netns del ${name}; ip link del ${veth}`);
  });
  const r = sh(
    [
      `ip netns add ${name}`,
      `ip link add ${veth} type veth peer name eth0 netns ${name}`,
      `ip addr add ${host}/24 dev ${veth}`,
      `ip link set ${veth} up`,
      `ip -n ${name} addr add ${addr}/24 dev eth0`,
      `ip -n ${name} link set eth0 up`,
      `ip -n ${name} route add default via ${host}`,
    ].join(' && '),
  );
  if (r.status !== 0) throw new Error(`cannot make the namespace: ${r.stderr}`);
  return { name, addr, host };
}

/** The example app, built for the given ABI: it learns its address only from --ipv4=. */
export function buildNetip(dir: string, abi: string): string {
  const out = path.join(dir, `netip-${abi}.spt`);
  const r = spawnSync(
    process.execPath,
    [
      path.join(root, 'dist', 'bin', 'solo5-build.js'),
      `--abi=${abi}`,
      `--manifest=${path.join(root, 'examples', 'oci', 'manifest.json')}`,
      `--output=${out}`,
      path.join(root, 'examples', 'oci', 'netip.c'),
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`solo5-build: ${r.stderr}`);
  return out;
}
