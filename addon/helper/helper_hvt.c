/* helper_hvt.c: hvt target: create the VM, register guest memory, set up the vCPU, confine, enter the run loop. */
#include "helper_hvt.h"

#include "helper_guard.h"
#include "helper_hvt_solo5.h"
#include "helper_setup.h"
#include "helper_solo5.h"

/*
 * Guest memory is the whole memfd, mapped once wherever the kernel likes and
 * registered as guest physical [0, mem_size). Shared, so the tender sees the
 * guest's writes in place, exactly as on spt; pages the guest never touches
 * are never allocated.
 */
static uint8_t *map_memory(const struct sn_plan *p)
{
    long r = h_mmap(0, p->mem_size, H_PROT_READ | H_PROT_WRITE, H_MAP_SHARED, SN_FD_MEM, 0);
    if (h_is_err(r))
        diag_fail("mmap guest memory", r);
    return (uint8_t *)r;
}

static void check_kvm(int kvm_fd)
{
    long v = h_ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
    if (h_is_err(v))
        diag_fail("KVM_GET_API_VERSION on the KVM device fd", v);
    if (v != H_KVM_API_VERSION) {
        struct diag d;
        d.len = 0;
        diag_str(&d, "KVM API version ");
        diag_u64(&d, (uint64_t)v);
        diag_str(&d, " is not the expected 12");
        diag_exit(&d);
    }
}

/*
 * After set-up the process holds only what the run loop uses: the vCPU at
 * SN_FD_VCPU (the VM lives on through it), the wait epoll and the doorbells.
 * The KVM device and VM fds are closed, so a compromised helper could not
 * create another VM or change this one's memory even if seccomp allowed it.
 */
static void settle_fds(const struct sn_plan *p, int kvm_fd, int vm_fd, int vcpu_fd)
{
    setup_wait_fd(p);
    long r = h_dup3(vcpu_fd, SN_FD_VCPU, H_O_CLOEXEC);
    if (h_is_err(r))
        diag_fail("dup3 vCPU fd", r);
    h_close(vcpu_fd);
    h_close(vm_fd);
    h_close(kvm_fd);
}

/*
 * A guest of upstream Solo5's hvt ABI: its own boot state and hypercalls
 * (helper_hvt_solo5_*.c). Afterwards the process holds the epoll set and
 * timerfd of its POLL at 3 and 4 (as on spt), its device fds from
 * SN_FD_DEV0, and the vCPU right after them (SN_SOLO5_HVT_FD_VCPU).
 */
static __attribute__((noreturn)) void solo5_run(const struct sn_plan *p, const struct h_sock_filter *bpf,
                                                uint8_t *mem, int kvm_fd, int vm_fd, int vcpu_fd,
                                                struct kvm_run *run, uint64_t run_size)
{
    static struct hvt_solo5_vm vm;
    vm.mem.base = mem;
    vm.alloc = p->mem_size;
    vm.run = run;
    vm.run_size = run_size;
    vm.vcpu_fd = vcpu_fd;
    vm.ndoorbells = p->ndoorbells;
    vm.ndevfds = p->ndevfds;
    vm.flags = p->flags;
    hvt_solo5_boot(&vm, p, kvm_fd, vm_fd);
    h_close(kvm_fd);
    h_close(vm_fd);
    vm.vcpu_fd = SN_SOLO5_HVT_FD_VCPU(p->ndevfds);
    long r = h_dup3(vcpu_fd, vm.vcpu_fd, H_O_CLOEXEC);
    if (h_is_err(r))
        diag_fail("dup3 vCPU fd", r);
    h_close(vcpu_fd);
    solo5_setup_fds(p);
#ifdef SN_HVT_DEBUG
    hvt_debug_setup(p);
#endif
    guard_drop_privileges(p);
    setup_confine(p, bpf);
    hvt_solo5_loop(&vm);
}

void hvt_run(const struct sn_plan *p, const struct h_sock_filter *bpf)
{
    /* The tender opened the device, so its absence or permissions were reported there. */
    int kvm_fd = SN_FD_DOORBELL0 + (int)p->ndoorbells + (int)p->ndevfds;
    setup_check_memfd(p);
    check_kvm(kvm_fd);
    uint8_t *mem = map_memory(p);

    long vm_fd = h_ioctl(kvm_fd, KVM_CREATE_VM, 0);
    if (h_is_err(vm_fd))
        hvt_kvm_fail("KVM_CREATE_VM", vm_fd);
    struct kvm_userspace_memory_region region = {
        .slot = 0,
        .flags = 0,
        .guest_phys_addr = 0,
        .memory_size = p->mem_size,
        .userspace_addr = (uint64_t)mem,
    };
    long r = h_ioctl((int)vm_fd, KVM_SET_USER_MEMORY_REGION, (uint64_t)&region);
    if (h_is_err(r))
        hvt_kvm_fail("KVM_SET_USER_MEMORY_REGION", r);
    long vcpu_fd = h_ioctl((int)vm_fd, KVM_CREATE_VCPU, 0);
    if (h_is_err(vcpu_fd))
        hvt_kvm_fail("KVM_CREATE_VCPU", vcpu_fd);
    long run_size = h_ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (h_is_err(run_size))
        hvt_kvm_fail("KVM_GET_VCPU_MMAP_SIZE", run_size);
    if ((unsigned long)run_size < sizeof(struct kvm_run))
        hvt_kvm_fail("KVM_GET_VCPU_MMAP_SIZE", -22 /* EINVAL */);
    long run = h_mmap(0, (uint64_t)run_size, H_PROT_READ | H_PROT_WRITE, H_MAP_SHARED, (int)vcpu_fd, 0);
    if (h_is_err(run))
        diag_fail("mmap vCPU run area", run);

    if (p->flags & SN_PLAN_F_SOLO5)
        solo5_run(p, bpf, mem, kvm_fd, (int)vm_fd, (int)vcpu_fd, (struct kvm_run *)run, (uint64_t)run_size);

    struct hvt_cpu_caps caps;
    hvt_vcpu_cpuid(kvm_fd, (int)vcpu_fd, &caps);
    struct diag why;
    uint64_t cr3 = hvt_paging_build(mem, p, &caps, &why);
    if (cr3 == 0)
        diag_exit(&why);
    hvt_vcpu_registers((int)vcpu_fd, p, cr3);
    /* Last before the guest runs, so that guest time starts as close to its first instruction as can be. */
    hvt_vcpu_clocks((int)vcpu_fd, mem);

    settle_fds(p, kvm_fd, (int)vm_fd, (int)vcpu_fd);
#ifdef SN_HVT_DEBUG
    hvt_debug_setup(p);
#endif
    guard_drop_privileges(p);
    /* From here on only what lib/seccomp/hvt.ts allows: the run loop's own calls. */
    setup_confine(p, bpf);

    struct hvt_vm vm = {
        .mem = mem,
        .mem_size = p->mem_size,
        .run = (struct kvm_run *)run,
        .ndoorbells = p->ndoorbells,
        .flags = p->flags,
    };
    hvt_loop(&vm);
}
