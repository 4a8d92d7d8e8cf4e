// errno.test.ts: host errors in strerror's words, as upstream's tenders print them, wherever the CLIs print an errno.
import t from 'tap';
import { errnoWords, lastErrnoWords, withErrnoWords } from '../lib/errno';
import { native } from '../lib/native';

t.test("glibc's words, from the addon", async (tt) => {
  tt.equal(native().strerror(2), 'No such file or directory');
  tt.equal(native().strerror(13), 'Permission denied');
  tt.equal(native().strerror(100000), undefined, 'an unknown errno has no words');
});

t.test('errno names after ": " or "(" become words; nothing else changes', async (tt) => {
  tt.equal(
    withErrnoWords('create guest memory: memfd_create failed: EMFILE'),
    'create guest memory: memfd_create failed: Too many open files',
  );
  tt.equal(
    withErrnoWords('/dev/kvm: cannot open (EBUSY); hvt needs KVM'),
    '/dev/kvm: cannot open (Device or resource busy); hvt needs KVM',
  );
  tt.equal(
    withErrnoWords('solo5-helper: mmap guest memory failed: ENOMEM'),
    'solo5-helper: mmap guest memory failed: Cannot allocate memory',
  );
  tt.equal(withErrnoWords("block device 'EPERM': x"), "block device 'EPERM': x", 'a quoted device name is not an errno');
  tt.equal(withErrnoWords('x: EFOOBAR'), 'x: EFOOBAR', 'an unknown name stays');
  tt.equal(withErrnoWords('ELF header: EI_CLASS 1'), 'ELF header: EI_CLASS 1', 'not an errno name');
});

t.test('the words for a failed call, and for the last errno in a message', async (tt) => {
  tt.equal(errnoWords(Object.assign(new Error('x'), { code: 'ENOENT' })), 'No such file or directory');
  tt.equal(errnoWords(Object.assign(new Error('x'), { code: 'ENOTANERRNO' })), 'ENOTANERRNO');
  tt.equal(errnoWords(new Error('plain')), 'plain');
  tt.equal(lastErrnoWords("tap 'x': TUNSETIFF failed: EPERM"), 'Operation not permitted');
  tt.equal(lastErrnoWords("tap 'x': no such interface", 'ENOENT'), 'No such file or directory');
  tt.equal(lastErrnoWords('something else'), 'something else');
});
