// pack.test.ts: the release as a user installs it: npm pack's tarball, npm install -g of it, every CLI on PATH (issue 21 item 7).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { root } from './support/paths';

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (the build inside npm install takes a minute on a loaded machine). */
function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * The environment of a user's shell: npm test's own npm_* variables would otherwise steer the
 * inner npm (its prefix, its lifecycle); the cache is kept, since that is where npm ci left the
 * dependencies this offline install takes.
 */
function userEnv(bin: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^npm_/i.test(k) || /^npm_config_(cache|userconfig)$/i.test(k)) env[k] = v;
  }
  // Only the installed bin directory and the system's: no node_modules/.bin of this checkout.
  const system = (process.env.PATH ?? '').split(':').filter((d) => d !== '' && !d.includes('node_modules'));
  env.PATH = [bin, ...system].join(':');
  return env;
}

const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
};

t.test('npm pack makes a tarball that npm install -g installs with every CLI on PATH', async (tt) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sn-pack-'));
  tt.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const prefix = path.join(dir, 'prefix');
  const bin = path.join(prefix, 'bin');
  const env = userEnv(bin);

  // The build is already done (npm test builds it); pack's own prepare would only redo it.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, env });
  if (packed.status !== 0) tt.fail(`npm pack: exit ${packed.status}\n${packed.stderr}`);
  const info = (JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[])[0];
  const files = new Set(info.files.map((f) => f.path));
  tt.ok(files.has('LICENSE'), 'the tarball carries LICENSE');
  for (const f of ['dist/lib/index.js', 'guest/build/hello.spt', 'addon/helper/Makefile', 'binding.gyp'])
    tt.ok(files.has(f), `the tarball carries ${f}`);
  // What the install builds for its machine, and what only the tests use, stay out.
  const stray = [...files].filter((f) => /^(build\/|addon\/helper\/build|dist\/test\/|dist\/bench\/|test\/)/.test(f) || f.endsWith('.map'));
  tt.strictSame(stray, [], 'no host build output, tests or source maps in the tarball');

  // A file tarball's install scripts are allowed by its path (npm 11's allowScripts matches a file spec exactly).
  const tarball = path.join(dir, info.filename);
  const inst = await run('npm', ['install', '-g', '--offline', `--allow-scripts=${tarball}`, '--prefix', prefix, tarball], {
    cwd: dir,
    env,
  });
  tt.equal(inst.status, 0, `npm install -g exits 0${inst.status === 0 ? '' : `\n${inst.stderr}`}`);
  tt.strictSame(
    inst.stderr.split('\n').filter((l) => /\bwarn\b/i.test(l)),
    [],
    'npm install -g prints no warning',
  );

  const installed = path.join(prefix, 'lib', 'node_modules', pkg.name);
  for (const name of Object.keys(pkg.bin)) {
    const link = path.join(bin, name);
    let ok = false;
    try {
      fs.accessSync(link, fs.constants.X_OK);
      ok = fs.realpathSync(link).startsWith(installed + path.sep);
    } catch {
      ok = false;
    }
    tt.ok(ok, `${name} is on PATH, an executable inside the installed package`);
  }

  const version = await run('solo5-spt', ['--version'], { cwd: dir, env });
  tt.equal(version.status, 0, 'solo5-spt --version exits 0');
  tt.match(
    version.stderr,
    new RegExp(`^solo5-spt tender, version ${pkg.version.replace(/\./g, '\\.')}\n`),
    'solo5-spt --version names the version',
  );

  // solo5-oci is the C front door the install compiled on this machine.
  const oci = await run('solo5-oci', ['--version'], { cwd: dir, env });
  tt.same([oci.status, oci.stdout.split('\n')[0]], [0, `solo5-oci version ${pkg.version}`], 'the installed solo5-oci --version');

  const hello = await run('solo5-spt', ['--mem=8', path.join(installed, 'guest', 'build', 'hello.spt'), 'from', 'the', 'tarball'], {
    cwd: dir,
    env,
  });
  tt.equal(hello.status, 0, `the installed solo5-spt runs the bundled hello${hello.status === 0 ? '' : `\n${hello.stderr}`}`);
  tt.match(
    hello.stdout,
    /Hello, World\nCommand line is: 'from the tarball'\nSUCCESS\n/,
    'hello prints its greeting, command line and SUCCESS',
  );
});
