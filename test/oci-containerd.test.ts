// oci-containerd.test.ts: a private containerd imports the packaged hello image and `ctr run` runs it with solo5-oci.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { app, exists, root } from './support/paths';
import { needRoot, ociCli, tmpBase } from './support/oci';

const skip = needRoot('containerd', 'ctr', 'podman') ?? (!exists(app('hello')) ? 'guest/build/hello.spt is not built' : undefined);

t.test('ctr run --runc-binary=solo5-oci prints hello', { skip: skip ?? false }, async (t) => {
  const seed = Math.floor(Math.random() * 1e9);
  t.comment(`seed ${seed}`);
  const base = tmpBase(t);
  const image = `localhost/solo5-oci-ctr-${seed}:latest`;
  // The image, built from packaging/Containerfile and saved as an OCI archive (no registry involved).
  const ctx = path.join(base, 'ctx');
  fs.mkdirSync(ctx);
  fs.copyFileSync(path.join(root, 'packaging', 'Containerfile'), path.join(ctx, 'Containerfile'));
  fs.copyFileSync(app('hello'), path.join(ctx, 'hello.spt'));
  const archive = path.join(base, 'hello.tar');
  const podman = (args: string[]) => spawnSync('podman', ['--cgroup-manager=cgroupfs', ...args], { encoding: 'utf8' });
  t.equal(podman(['build', '-q', '-t', image, ctx]).status, 0, 'podman build');
  t.teardown(() => void podman(['rmi', '-f', image]));
  const saved = podman(['save', '--format', 'oci-archive', '-o', archive, image]);
  t.equal(saved.status, 0, `podman save (${saved.stderr.trim()})`);

  // containerd with its own root, state and socket (docs/oci.md: settings for restricted hosts).
  const sock = path.join(base, 'c.sock');
  fs.writeFileSync(
    path.join(base, 'config.toml'),
    [
      'version = 2',
      `root = "${base}/root"`,
      `state = "${base}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${sock}"`,
      '[ttrpc]',
      `  address = "${sock}.ttrpc"`,
      '',
    ].join('\n'),
  );
  const daemon = spawn('containerd', ['--config', path.join(base, 'config.toml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  t.teardown(async () => {
    daemon.kill('SIGTERM');
    await exited;
  });
  let log = '';
  await new Promise<void>((resolve, reject) => {
    daemon.stderr.setEncoding('utf8');
    daemon.stderr.on('data', (d: string) => {
      log += d;
      if (log.includes('successfully booted')) resolve();
    });
    void exited.then(() => reject(new Error(`containerd exited: ${log}`)));
  });
  const ctr = (args: string[]) => spawnSync('ctr', ['-a', sock, '-n', `solo5oci${seed}`, ...args], { encoding: 'utf8' });
  const imported = ctr(['images', 'import', archive]);
  t.equal(imported.status, 0, `ctr images import (${imported.stderr.trim()})`);
  const run = ctr(['run', '--rm', '--runc-binary', ociCli, image, `hello${seed}`]);
  t.equal(run.status, 0, `ctr run exits with the guest's status (${run.stderr.trim()})`);
  t.match(run.stdout, /Hello, World\nCommand line is: 'from an OCI image'\nSUCCESS\n/, 'ctr run prints hello');
  // -t: the shim passes --console-socket; ctr wants a terminal of its own, which script(1) gives it.
  // Both ptys turn \n into \r\n, so the line ends prove the output went through the container's.
  const tty = spawnSync(
    'script',
    [
      '-qec',
      ['ctr', '-a', sock, '-n', `solo5oci${seed}`, 'run', '-t', '--rm', '--runc-binary', ociCli, image, `tty${seed}`].join(' '),
      '/dev/null',
    ],
    {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  );
  t.equal(tty.status, 0, `ctr run -t exits with the guest's status (${tty.stderr.trim()})`);
  t.match(tty.stdout, /Hello, World\r+\nCommand line is: 'from an OCI image'\r+\nSUCCESS\r+\n/, 'ctr run -t prints hello through a pty');
  t.equal(ctr(['containers', 'ls', '-q']).stdout.trim(), '', 'no container is left');
  ctr(['images', 'rm', image]);
});
