/* bindings.h: internal interface of the guest bindings: ABI-neutral helpers (common/), the ring ABI (ring/) and each target. */
#ifndef SN_BINDINGS_H
#define SN_BINDINGS_H

#include "solo5.h"
#include "sn_abi.h"
#include "sn_printf.h"

/* Kept equal to package.json's version; test/build.test.ts checks the ELF for it. */
#define SN_BINDINGS_VERSION "0.1.0"

/*
 * Ring ABI: bytes reserved for the stack at the top of guest memory, at most
 * (ring/boot.c gives the stack half of the free memory when that is less,
 * so that --mem=2 still leaves a heap); the heap ends where the stack
 * begins. There is no guard page between them: the spt guest cannot change
 * its mappings (mprotect is not in the seccomp policy), so a stack overflow
 * runs silently into the top of the heap, as it does on the other Solo5
 * targets. 1 MiB is far more than the bindings use and matches what
 * language runtimes on Solo5 expect to find.
 */
#define SN_STACK_SIZE (1024UL * 1024UL)

#define SN_PAGE_ALIGN_UP(x) (((x) + (SN_PAGE_SIZE - 1)) & ~(SN_PAGE_SIZE - 1))

/* ------------------------------------------------------------------------
 * Logging (common/log.c). Every line starts with "Solo5: " so that tests and
 * users can tell the bindings' lines from the application's.
 */
enum sn_log_level {
    SN_LOG_QUIET = 0,
    SN_LOG_ERROR = 1,
    SN_LOG_WARN = 2,
    SN_LOG_INFO = 3,
    SN_LOG_DEBUG = 4,
};

extern int sn_log_level;

/* Writes "Solo5: " + the formatted message + "\n" if `level` is enabled. */
void sn_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The first lines of the memory map, at info level: its size and the image's parts. */
void sn_log_image(uint64_t mem_size);

/* ------------------------------------------------------------------------
 * Command line (common/log.c).
 */

/*
 * Consumes the leading --solo5:LEVEL options of `cmdline` (setting
 * sn_log_level) and returns the rest, with the separating spaces skipped.
 * Unknown --solo5: options are reported at warn level and skipped.
 */
const char *sn_cmdline_parse(const char *cmdline);

/* ------------------------------------------------------------------------
 * Ring ABI only (ring/, spt/, hvt/). The Solo5-ABI bindings (solo5/)
 * have their own boot info and device calls and define none of these.
 *
 * Manifest (ring/mft.c): the tender's copy of the MFT1 manifest, with
 * per-device data filled in, found through the boot info.
 */

/* Checks the manifest copy once at boot; an invalid one is treated as empty. */
void sn_mft_init(const struct sn_bootinfo *bi);

/*
 * Finds the entry called `name` of type `type` (SN_MFT_DEV_*). Returns
 * SOLO5_R_OK with *index set, or SOLO5_R_EINVAL when the manifest declares
 * no such device. *entry points at the (tender-written) entry.
 */
solo5_result_t sn_mft_lookup(const char *name, uint32_t type, solo5_handle_t *index,
                             const struct sn_mft_entry **entry);

/*
 * Checks the boot info the tender wrote (before anything else trusts it):
 * returns NULL when it is usable by a `target` guest, else the reason.
 */
const char *sn_bootinfo_problem(const struct sn_bootinfo *bi, uint32_t target);

/* ------------------------------------------------------------------------
 * Start-up (ring/boot.c).
 */

/*
 * The target-independent part of start-up: command line, memory map and
 * banner (heap from the end of the image or ring area to SN_STACK_SIZE below
 * the top), manifest, then solo5_app_main() and solo5_exit() with its result.
 */
void sn_boot(const struct sn_bootinfo *bi, const char *target_name) __attribute__((noreturn));

/* ------------------------------------------------------------------------
 * The ABI1 note, as Solo5 publishes it: namesz, descsz, type, the owner name
 * "Solo5" padded to 8 bytes, then the 16-byte descriptor (target, version,
 * two reserved zero words). Each bindings defines it once with SN_ABI1_NOTE
 * in section .note.solo5.abi, which its linker script keeps (nothing
 * references it) in a PT_NOTE of its own; solo5-elftool query-abi reads it.
 */
struct sn_abi1_note {
    uint32_t namesz;
    uint32_t descsz;
    uint32_t type;
    char name[8];
    struct sn_abi1_desc desc;
};
SN_STATIC_ASSERT(sizeof(struct sn_abi1_note) == 20 + sizeof(struct sn_abi1_desc), "ABI1 note has no padding");

#define SN_ABI1_NOTE(target_, version_)                                                                      \
    __attribute__((section(".note.solo5.abi"), aligned(4),                                                   \
                   used)) static const struct sn_abi1_note sn_abi1_note = {                                  \
        .namesz = sizeof SN_NOTE_NAME,                                                                       \
        .descsz = sizeof(struct sn_abi1_desc),                                                               \
        .type = SN_NOTE_TYPE_ABI,                                                                            \
        .name = SN_NOTE_NAME,                                                                                \
        .desc = { .target = (target_), .version = (version_) },                                              \
    }

/* ------------------------------------------------------------------------
 * Stack protector (common/ssp.c), for every bindings.
 */

/* Seeds the canary; must run before any function that has a canary returns. */
void sn_ssp_init(uint64_t random);

/* ------------------------------------------------------------------------
 * Provided by each target.
 */

/* Ends the guest at once with `status`, printing nothing. */
void sn_platform_exit(int status) __attribute__((noreturn));

/* ------------------------------------------------------------------------
 * Freestanding helpers (common/string.c). The mem* functions are also what
 * the compiler calls for struct copies and large zeroing.
 */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/* Symbols defined by the linker script, bounding each part of the image. */
extern char __sn_text_start[], _etext[];
extern char __sn_rodata_start[], _erodata[];
extern char __sn_data_start[], _edata[];
extern char _end[];
/*
 * The TLS template (common/tls.c): .tdata from __sn_tdata_start to
 * __sn_tdata_end, then .tbss up to __sn_tbss_end; __sn_tls_align is the
 * PT_TLS alignment, as an absolute symbol. Every linker script defines them.
 */
extern char __sn_tdata_start[], __sn_tdata_end[], __sn_tbss_end[], __sn_tls_align[];

#endif /* SN_BINDINGS_H */
