// oci-cri.ts: containerd with its CRI plugin in a private network namespace and temp roots, and a CRI client (test/support/cri.py).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { appears } from './oci';
import { buildNetip } from './oci-net';
import { root } from './paths';

/** The python with Debian's python3-grpcio (a pyenv shim first on PATH may not have it). */
export const CRI_PYTHON = '/usr/bin/python3';

/** Why the CRI test cannot run here, or undefined. */
export function criMissing(): string | undefined {
  for (const c of ['containerd', 'ctr', 'podman', 'runc', 'gcc', 'nsenter']) {
    if (spawnSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' }).status !== 0)
      return `${c} is not installed (.ci/install-oci.sh installs it)`;
  }
  if (!fs.existsSync('/usr/lib/cni/bridge')) return 'the CNI plugins are not installed (containernetworking-plugins)';
  if (spawnSync(CRI_PYTHON, ['-c', 'import grpc, google.protobuf'], { stdio: 'ignore' }).status !== 0)
    return 'python3-grpcio is not installed';
  return undefined;
}

type Teardown = { teardown(fn: () => void | Promise<void>): void };

export interface Cri {
  /** The private network namespace containerd (and so the CNI bridge) lives in. */
  netns: string;
  dir: string;
  call(method: string, request: object): Promise<Record<string, unknown>>;
}

/** containerd's config: CRI with a `solo5` handler (the front door as BinaryName) and a `runc` one, every root under dir. */
function config(dir: string, runtime: string, image: string): string {
  const cri = 'plugins."io.containerd.grpc.v1.cri"';
  const rt = (name: string, binary: string) =>
    `[${cri}.containerd.runtimes.${name}]\n  runtime_type = "io.containerd.runc.v2"\n[${cri}.containerd.runtimes.${name}.options]\n  BinaryName = "${binary}"\n  Root = "${dir}/${name}"\n`;
  return `version = 2
root = "${dir}/root"
state = "${dir}/state"
[grpc]
  address = "${dir}/c.sock"
[ttrpc]
  address = "${dir}/c.sock.ttrpc"
[${cri}]
  sandbox_image = "${image}"
  # Without CAP_SYS_RESOURCE the pause container's -998 cannot be set; this keeps it at containerd's own.
  restrict_oom_score_adj = true
[${cri}.cni]
  bin_dir = "/usr/lib/cni"
  conf_dir = "${dir}/cni"
[${cri}.containerd]
  default_runtime_name = "runc"
${rt('runc', 'runc')}${rt('solo5', runtime)}`;
}

/**
 * Start containerd in a namespace of its own (nsenter --net: `ip netns exec`
 * remounts /sys), with `images` (OCI archives) imported into k8s.io; every
 * pod left is removed and containerd stopped at teardown.
 */
export async function startCri(t: Teardown, seed: number, runtime: string, sandboxImage: string, archives: string[]): Promise<Cri> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-cri-'));
  const netns = `sn-cri-${seed}`;
  const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });
  const made = sh(`ip netns add ${netns} && ip -n ${netns} link set lo up`);
  if (made.status !== 0) throw new Error(`ip netns add: ${made.stderr}`);
  fs.mkdirSync(path.join(dir, 'cni'));
  fs.writeFileSync(path.join(dir, 'config.toml'), config(dir, runtime, sandboxImage));
  const bridge = {
    cniVersion: '0.4.0',
    name: 'sn-cri',
    plugins: [
      {
        type: 'bridge',
        bridge: 'sncri0',
        isGateway: true,
        ipam: { type: 'host-local', ranges: [[{ subnet: `10.215.${seed % 200}.0/24` }]], dataDir: path.join(dir, 'ipam') },
      },
    ],
  };
  fs.writeFileSync(path.join(dir, 'cni', '10-sn-cri.conflist'), JSON.stringify(bridge));
  const daemon: ChildProcess = spawn('nsenter', [`--net=/run/netns/${netns}`, 'containerd', '--config', path.join(dir, 'config.toml')], {
    stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'containerd.log'), 'w')],
  });
  const client = spawn(CRI_PYTHON, [path.join(root, 'test', 'support', 'cri.py'), path.join(dir, 'c.sock')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const replies = readline.createInterface({ input: client.stdout });
  const waiting: ((line: string) => void)[] = [];
  replies.on('line', (l) => waiting.shift()?.(l));
  const pods = new Set<string>();
  const call = (method: string, request: object): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      waiting.push((line) => {
        const r = JSON.parse(line) as { reply?: Record<string, unknown>; error?: string };
        if (r.error !== undefined) reject(new Error(`${method}: ${r.error}`));
        else {
          if (method === 'RunPodSandbox') pods.add(r.reply?.pod_sandbox_id as string);
          if (method === 'RemovePodSandbox') pods.delete((request as { pod_sandbox_id: string }).pod_sandbox_id);
          resolve(r.reply ?? {});
        }
      });
      client.stdin.write(`${JSON.stringify({ method, request })}\n`);
    });
  t.teardown(async () => {
    for (const id of pods) {
      await call('StopPodSandbox', { pod_sandbox_id: id }).catch(() => undefined);
      await call('RemovePodSandbox', { pod_sandbox_id: id }).catch(() => undefined);
    }
    client.stdin.end();
    const gone = new Promise((resolve) => daemon.once('exit', resolve));
    daemon.kill('SIGTERM');
    await gone;
    sh(`ip netns del ${netns}`);
    // Snapshots left mounted by a failed case would keep the directory busy.
    sh(`grep -o ' ${dir}/[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l`);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await appears(path.join(dir, 'c.sock'), 20_000);
  for (const a of archives) {
    const r = spawnSync('ctr', ['--address', path.join(dir, 'c.sock'), '-n', 'k8s.io', 'images', 'import', a], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ctr images import ${a}: ${r.stderr}`);
  }
  return { netns, dir, call };
}

const PAUSE_C =
  '#include <signal.h>\n#include <unistd.h>\nstatic void done(int s) { (void)s; _exit(0); }\nint main(void) { signal(SIGTERM, done); signal(SIGINT, done); for (;;) pause(); }\n';

/**
 * One image for the CRI plugin (there is no registry here): a static pause (the
 * sandbox, CMD), a static /true, netip-solo5.spt when `netip`, and `files` at /,
 * saved as an OCI archive for startCri to import.
 */
export function criImage(dir: string, tag: string, files: string[], netip = false): string {
  const gcc = (name: string, c: string) => {
    fs.writeFileSync(path.join(dir, `${name}.c`), c);
    const cc = spawnSync('gcc', ['-static', '-O2', '-o', path.join(dir, name), path.join(dir, `${name}.c`)], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`gcc: ${cc.stderr}`);
  };
  gcc('pause', PAUSE_C);
  gcc('true', 'int main(void) { return 0; }\n');
  const names = files.map((f) => path.basename(f));
  files.forEach((f, i) => fs.copyFileSync(f, path.join(dir, names[i])));
  if (netip) names.push(path.basename(buildNetip(dir, 'solo5')));
  fs.writeFileSync(path.join(dir, 'Containerfile'), `FROM scratch\nCOPY pause true ${names.join(' ')} /\nCMD ["/pause"]\n`);
  const podman = (args: string[]) => {
    const r = spawnSync('podman', ['--cgroup-manager=cgroupfs', ...args], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`podman ${args[0]}: ${r.stderr}`);
  };
  podman(['build', '-q', '-t', tag, dir]);
  const archive = path.join(dir, 'image.tar');
  try {
    podman(['save', '-q', '--format', 'oci-archive', '-o', archive, tag]);
  } finally {
    spawnSync('podman', ['--cgroup-manager=cgroupfs', 'rmi', '-f', tag], { stdio: 'ignore' });
  }
  return archive;
}

export interface CriStatus {
  state: string;
  exit_code: number;
  reason: string;
  log_path: string;
}

/** The calls a pod needs, as kubelet makes them, for pods named NAME-seed with logs under cri.dir/pods/NAME. */
export function criPods(cri: Cri, seed: number, image: string) {
  const logs = path.join(cri.dir, 'pods');
  const sandboxConfig = (name: string) => ({
    metadata: { name, uid: `${name}-${seed}`, namespace: 'default', attempt: 0 },
    log_directory: path.join(logs, name),
  });
  const status = async (id: string): Promise<CriStatus> => (await cri.call('ContainerStatus', { container_id: id })).status as CriStatus;
  return {
    logs,
    status,
    /** RunPodSandbox through `handler`; the sandbox's id. */
    pod: async (name: string, handler = 'solo5'): Promise<string> =>
      (await cri.call('RunPodSandbox', { config: sandboxConfig(name), runtime_handler: handler })).pod_sandbox_id as string,
    /** CreateContainer; the container's id. */
    create: async (podId: string, podName: string, name: string, command: string[], attempt = 0): Promise<string> =>
      (
        await cri.call('CreateContainer', {
          pod_sandbox_id: podId,
          config: {
            metadata: { name, attempt },
            image: { image },
            command,
            log_path: `${name}/${attempt}.log`,
            linux: { resources: { memory_limit_in_bytes: 32 << 20 } },
          },
          sandbox_config: sandboxConfig(podName),
        })
      ).container_id as string,
    /** CRI 1.6 has no container events: ask every `every` ms until the state is `want` (bounded). */
    until: async (id: string, want: string, ms = 20_000, every = 50): Promise<CriStatus> => {
      const end = Date.now() + ms;
      for (;;) {
        const s = await status(id);
        if (s.state === want || Date.now() > end) return s;
        await new Promise((r) => setTimeout(r, every));
      }
    },
    /** StopPodSandbox and RemovePodSandbox (which removes its containers). */
    remove: async (podId: string): Promise<void> => {
      await cri.call('StopPodSandbox', { pod_sandbox_id: podId });
      await cri.call('RemovePodSandbox', { pod_sandbox_id: podId });
    },
  };
}
