// oci-podman.test.ts: podman runs unikernel images with --runtime=solo5-oci (one image build for every case).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { app, exists, root } from './support/paths';
import { needRoot, ociCli, ociFront, tmpBase } from './support/oci';

/** The settings this host needs (docs/oci.md): cgroupfs for hybrid cgroups, rlimits without CAP_SYS_RESOURCE. */
const PODMAN = ['--cgroup-manager=cgroupfs'];
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1000:1000'];
const RUN = ['run', '--rm', `--runtime=${ociCli}`, ...LIMITS];

function podman(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('podman', [...PODMAN, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const skip =
  needRoot('podman') ??
  (!exists(app('hello')) || !exists(app('exitcode')) || !exists(app('seccomp'))
    ? 'guest/build/hello.spt, exitcode.spt and seccomp.spt are not built'
    : undefined);

t.test('podman run --runtime=solo5-oci', { skip: skip ?? false }, async (t) => {
  const seed = Math.floor(Math.random() * 1e9);
  t.comment(`seed ${seed}`);
  const image = `localhost/solo5-oci-test-${seed}`;
  const ctx = tmpBase(t);
  fs.copyFileSync(app('hello'), path.join(ctx, 'hello.spt'));
  fs.copyFileSync(app('exitcode'), path.join(ctx, 'exitcode.spt'));
  fs.copyFileSync(app('seccomp'), path.join(ctx, 'seccomp.spt'));
  // The packaged Containerfile plus the exitcode app, so one build serves every case.
  const file = fs.readFileSync(path.join(root, 'packaging', 'Containerfile'), 'utf8');
  fs.writeFileSync(path.join(ctx, 'Containerfile'), file.replace('COPY hello.spt /hello.spt', 'COPY hello.spt exitcode.spt seccomp.spt /'));
  const built = podman(['build', '-q', '-t', image, ctx]);
  t.equal(built.status, 0, `podman build (${built.stderr.trim()})`);
  t.teardown(() => void podman(['rmi', '-f', image]));

  const hello = podman([...RUN, image]);
  t.equal(hello.status, 0, `hello exits 0 (${hello.stderr.trim()})`);
  t.match(hello.stdout, /Hello, World\nCommand line is: 'from an OCI image'\nSUCCESS\n/, 'the console reaches podman');

  const code = podman([...RUN, '--network=none', image, '/exitcode.spt', '42']);
  t.equal(code.status, 42, `the guest's exit code passes through (${code.stderr.trim()})`);
  t.match(code.stdout, /exiting with 42/);

  // The guest is the container's process (no monitor): conmon sees its death by SIGSYS as 128 + 31, as upstream's tender reports it.
  const sys = podman([...RUN, '--network=none', image, '/seccomp.spt']);
  t.equal(sys.status, 159, `a guest killed by SIGSYS: 159 (${sys.stderr.trim()})`);

  if (exists(ociFront)) {
    const front = podman(['run', '--rm', `--runtime=${ociFront}`, ...LIMITS, '--network=none', image, '/exitcode.spt', '5']);
    t.equal(front.status, 5, `through the front door (addon/oci) too (${front.stderr.trim()})`);
    t.match(front.stdout, /exiting with 5/);
  } else t.fail(`${ociFront} is not built (npm run build:helper)`);

  // -t: conmon passes --console-socket and reads the pty master; the line discipline's \r\n shows it went through the pty.
  const tty = podman([...RUN, '--network=none', '-t', image, '/exitcode.spt', '3']);
  t.equal(tty.status, 3, `with -t the exit code passes through (${tty.stderr.trim()})`);
  t.match(tty.stdout, /exiting with 3\r\n/, 'with -t the console comes through the pty');

  const mem = podman([...RUN, '--network=none', '--memory=8m', image]);
  t.match(mem.stdout, /memory map: 8 MB addressable/, 'the container memory limit is the guest memory');

  t.equal(podman(['ps', '-a', '--filter', `ancestor=${image}`, '-q']).stdout.trim(), '', 'no container is left');
});
