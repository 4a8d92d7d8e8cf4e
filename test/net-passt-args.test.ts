// net-passt-args.test.ts: passt forwards (CLI and API), passt's command line, its report and the guest-argument placeholders.
import t from 'tap';
import { parseTenderArgs } from '../lib/cli/tender-args';
import { UsageError } from '../lib/errors';
import { checkPasstAttach, parseForwardSpec, passtArgv } from '../lib/net/passt-args';
import { expandPlaceholders, type NetInfo } from '../lib/net/passt-placeholders';
import { describePasstInfo, maskPrefix, parsePasstReport } from '../lib/net/passt-report';

t.test('--net-forward values that are accepted', async (tt) => {
  const cases: [string, object][] = [
    ['udp:5007:7', { proto: 'udp', hostPort: 5007, guestPort: 7 }],
    ['tcp:8080:80', { proto: 'tcp', hostPort: 8080, guestPort: 80 }],
    ['tcp:127.0.0.1:1:65535', { proto: 'tcp', hostAddress: '127.0.0.1', hostPort: 1, guestPort: 65535 }],
    ['udp:::1:5353:53', { proto: 'udp', hostAddress: '::1', hostPort: 5353, guestPort: 53 }],
    ['udp:[fd00::2]:5353:53', { proto: 'udp', hostAddress: 'fd00::2', hostPort: 5353, guestPort: 53 }],
  ];
  for (const [spec, want] of cases) tt.strictSame(parseForwardSpec('--net-forward:s', spec), want, spec);
});

t.test('--net-forward values that are refused, each naming the option', async (tt) => {
  const cases: [string, RegExp][] = [
    ['sctp:1:2', /does not start with tcp: or udp:/],
    ['udp:7', /needs a host port and a guest port/],
    ['udp:0:7', /host port '0', not 1 to 65535/],
    ['udp:65536:7', /host port '65536'/],
    ['udp:5000:', /guest port ''/],
    ['udp:5000:x', /guest port 'x'/],
    ['udp:-1:7', /host port '-1'/],
    ['udp:localhost:5000:7', /host address 'localhost', not an IPv4 or IPv6 literal/],
    ['udp:10.0.0.256:5000:7', /host address '10.0.0.256'/],
    ['tcp:1.2.3.4:5000:07x', /guest port '07x'/],
  ];
  for (const [spec, re] of cases) {
    tt.throws(() => parseForwardSpec('--net-forward:s', spec), UsageError, spec);
    try {
      parseForwardSpec('--net-forward:s', spec);
    } catch (e) {
      tt.match((e as Error).message, /^--net-forward:s: '/, `${spec}: names the option`);
      tt.match((e as Error).message, re, spec);
      tt.notMatch((e as Error).message, /\n/, 'one line');
    }
  }
});

t.test('the CLI: --net:NAME=passt and repeated --net-forward', async (tt) => {
  const a = parseTenderArgs(['--net:service=passt', '--net-forward:service=udp:5007:7', '--net-forward:service=tcp:8080:80', 'k'], 'spt');
  const net = a.launch.net as Map<string, object>;
  tt.strictSame(net.get('service'), {
    passt: {
      forwards: [
        { proto: 'udp', hostPort: 5007, guestPort: 7 },
        { proto: 'tcp', hostPort: 8080, guestPort: 80 },
      ],
    },
  });
  tt.strictSame((parseTenderArgs(['--net:service=passt', 'k'], 'spt').launch.net as Map<string, object>).get('service'), { passt: true });
  tt.throws(
    () => parseTenderArgs(['--net:service=tap0', '--net-forward:service=udp:1:7', 'k'], 'spt'),
    /--net-forward:service: no --net:service=passt/,
  );
  tt.throws(() => parseTenderArgs(['--net-forward:service=udp:1:7', 'k'], 'spt'), /--net-forward:service: no --net:service=passt/);
  tt.throws(
    () => parseTenderArgs(['--net:service=passt', '--net-forward:service=udp:1:0', 'k'], 'spt'),
    /--net-forward:service: 'udp:1:0'/,
  );
});

t.test('API forwards are checked field by field', async (tt) => {
  tt.strictSame(checkPasstAttach('net.s.passt', true), { forwards: [] });
  tt.strictSame(checkPasstAttach('net.s.passt', { forwards: [{ proto: 'udp', hostPort: 1, guestPort: 7 }] }), {
    forwards: [{ proto: 'udp', hostPort: 1, guestPort: 7 }],
  });
  const bad: [unknown, RegExp][] = [
    [false, /net.s.passt: must be true or/],
    [{ forward: [] }, /unknown field forward/],
    [{ forwards: 'udp:1:7' }, /forwards: must be an array/],
    [{ forwards: [{ proto: 'icmp', hostPort: 1, guestPort: 7 }] }, /forwards\[0\]\.proto/],
    [{ forwards: [{ proto: 'tcp', hostPort: 1.5, guestPort: 7 }] }, /forwards\[0\]\.hostPort: 1.5/],
    [{ forwards: [{ proto: 'tcp', hostPort: 1, guestPort: 70000 }] }, /forwards\[0\]\.guestPort: 70000/],
    [{ forwards: [{ proto: 'tcp', hostAddress: 'host', hostPort: 1, guestPort: 7 }] }, /hostAddress: 'host'/],
  ];
  for (const [v, re] of bad) tt.throws(() => checkPasstAttach('net.s.passt', v), re, JSON.stringify(v));
});

t.test("passt's command line", async (tt) => {
  const base = { fd: 3, mtu: 1500, logFile: '/d/log', pidFile: '/d/pid' };
  tt.strictSame(passtArgv({ ...base, forwards: [] }), [
    '-f',
    '--fd',
    '3',
    '-l',
    '/d/log',
    '-P',
    '/d/pid',
    '-m',
    '1500',
    '-t',
    'none',
    '-u',
    'none',
  ]);
  tt.strictSame(
    passtArgv({
      ...base,
      runas: { uid: 65534, gid: 65534 },
      forwards: [
        { proto: 'tcp', hostPort: 8080, guestPort: 80 },
        { proto: 'tcp', hostAddress: '::1', hostPort: 8443, guestPort: 443 },
      ],
    }).slice(9),
    ['--runas', '65534:65534', '-t', '8080:80', '-t', '::1/8443:443', '-u', 'none'],
    'TCP forwards alone do not drag UDP along',
  );
});

// As the Debian package of 2023-03 writes it to its log file (-l).
const REPORT = `passt unknown version: /usr/bin/passt.avx2 (795)
0.1847: WARNING: No external routable interface for IPv6
0.1860: info:    Template interface: tpl0 (IPv4)
0.1861: info:    MAC:
0.1862: info:        host: 7a:99:85:19:41:ac
0.1864: info:    DHCP:
0.1865: info:        assign: 10.213.0.2
0.1866: info:        mask: 255.255.255.0
0.1868: info:        router: 10.213.0.1
0.1870: info:    DNS:
0.1871: info:        10.213.0.53
0.1871: info:        fd00::53
0.7470: info:    DNS search list:
0.7470: info:        example.test
`;

t.test("passt's report", async (tt) => {
  const info = parsePasstReport(REPORT, 795);
  tt.strictSame(info, {
    pid: 795,
    template: 'tpl0',
    ipv4: { address: '10.213.0.2', prefix: 24, netmask: '255.255.255.0', gateway: '10.213.0.1' },
    dns: ['10.213.0.53', 'fd00::53'],
    dnsSearch: ['example.test'],
  });
  tt.equal(describePasstInfo(info!), '10.213.0.2/24 via 10.213.0.1, DNS 10.213.0.53 fd00::53');
  tt.equal(parsePasstReport('0.1: info:    DNS:\n0.1: info:        1.1.1.1\n', 1), undefined, 'no address: no report');
  tt.equal(
    parsePasstReport(REPORT.replace('assign: 10.213.0.2', 'assign: 10.213.0.2 --evil'), 1),
    undefined,
    'an address with more after it is none',
  );
  const h = parsePasstReport(REPORT.replace('10.213.0.53', '{x}').replace('example.test', 'a b'), 1);
  tt.strictSame(h?.dns, ['fd00::53'], 'only IP literals are kept as resolvers');
  tt.strictSame(h?.dnsSearch, [], 'only domain names are kept in the search list');
  tt.equal(parsePasstReport(REPORT.replace('255.255.255.0', '255.0.255.0'), 1), undefined, 'a mask with holes is no report');
  tt.equal(maskPrefix('255.255.255.252'), 30);
  tt.equal(maskPrefix('0.0.0.0'), 0);
  tt.equal(maskPrefix('255.255.255.255'), 32);
});

t.test('placeholders in the guest arguments', async (tt) => {
  const passt = parsePasstReport(REPORT, 1)!;
  const nets = new Map<string, NetInfo>([
    ['service', { mac: '02:00:00:00:00:01', mtu: 1500, passt }],
    ['tap', { mac: '02:00:00:00:00:02', mtu: 9000 }],
  ]);
  tt.equal(
    expandPlaceholders('--ipv4={service.ipv4} --ipv4-gateway={service.gateway} --dns={service.dns} {service.mac} {tap.mtu}', nets),
    '--ipv4=10.213.0.2/24 --ipv4-gateway=10.213.0.1 --dns=10.213.0.53 02:00:00:00:00:01 9000',
  );
  tt.equal(expandPlaceholders('{service.address} {service.prefix} {service.netmask}', nets), '10.213.0.2 24 255.255.255.0');
  tt.equal(
    expandPlaceholders('{other.ipv4} {service} {constructor.ipv4}', nets),
    '{other.ipv4} {service} {constructor.ipv4}',
    'other braces stay',
  );
  tt.throws(() => expandPlaceholders('{service.color}', nets), /args: \{service.color\}: unknown field 'color'/);
  tt.throws(() => expandPlaceholders('{service.constructor}', nets), /unknown field 'constructor'/);
  tt.throws(() => expandPlaceholders('{tap.ipv4}', nets), /no ipv4 to put there \(net device 'tap' is not attached to passt\)/);
  tt.throws(() => expandPlaceholders('{service.ipv6}', nets), /no ipv6 to put there \(passt did not report one\)/);
});
