/* solo5.h: the public Solo5 guest API, as implemented by the solo5-node bindings. */
#ifndef SOLO5_H
#define SOLO5_H

/*
 * This header is the whole interface between a unikernel and the solo5-node
 * bindings. Type and function names follow Solo5's published API so that
 * source written for Solo5 builds unchanged; the comments are this project's
 * own description of the behaviour of these bindings.
 *
 * The bindings are freestanding: there is no libc. Only the compiler's own
 * <stddef.h>, <stdint.h> and <stdbool.h> are used.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Results and basic types
 */

/* The outcome of an API call that can fail. */
typedef enum {
    /* The call did what was asked. */
    SOLO5_R_OK = 0,
    /* Nothing to do right now (e.g. no packet waiting); try again later. */
    SOLO5_R_AGAIN,
    /* An argument is wrong: unknown device, bad handle, misaligned offset. */
    SOLO5_R_EINVAL,
    /* Anything else: the device is declared but not usable, a host error. */
    SOLO5_R_EUNSPEC
} solo5_result_t;

/* Nanoseconds. */
typedef uint64_t solo5_time_t;

/* A device handle, valid after a successful solo5_*_acquire(). */
typedef uint64_t solo5_handle_t;

/* A set of handles: bit N stands for the handle N. */
typedef uint64_t solo5_handle_set_t;

/* A byte offset on a block device. */
typedef uint64_t solo5_off_t;

/* ------------------------------------------------------------------------
 * Entry point
 */

/* What the bindings hand the application at start-up. */
struct solo5_start_info {
    /*
     * The command line given to the tender after the kernel file, with the
     * bindings' own leading --solo5:* options removed. Never NULL.
     */
    const char *cmdline;
    /* First byte of the heap: free memory the application may use at will. */
    uintptr_t heap_start;
    /* Size of the heap in bytes (may be 0 when guest memory is tiny). */
    size_t heap_size;
};

/*
 * Provided by the application; called once the bindings are set up. Its
 * return value becomes the exit status, as if solo5_exit() was called.
 */
int solo5_app_main(const struct solo5_start_info *info);

/* ------------------------------------------------------------------------
 * Exit
 */

#define SOLO5_EXIT_SUCCESS 0
#define SOLO5_EXIT_FAILURE 1
/* The status the tender reports after solo5_abort(). */
#define SOLO5_EXIT_ABORT 255

/*
 * Ends the unikernel with `status`. The tender sees (status & 0xff), as a
 * process exit status would be seen on the host.
 */
void solo5_exit(int status) __attribute__((noreturn));

/*
 * Ends the unikernel abnormally: a line containing "ABORT" is written to the
 * console (unless --solo5:quiet was given) and the exit status is
 * SOLO5_EXIT_ABORT.
 */
void solo5_abort(void) __attribute__((noreturn));

/* ------------------------------------------------------------------------
 * Thread-local storage
 *
 * The application owns TLS: for each thread it allocates a block of
 * solo5_tls_size() bytes (any alignment), fills it with solo5_tls_init()
 * and makes it current with
 * solo5_set_tls_base(solo5_tls_tp_offset(block)). Only the local-exec model
 * is supported (the image is static).
 */

/* Bytes a TLS block needs: the __thread template, alignment slack and the self-pointer. */
size_t solo5_tls_size(void);

/* The thread pointer to use for the block at `tls` (inside it, near its end). */
uintptr_t solo5_tls_tp_offset(uintptr_t tls);

/*
 * Fills the block at `tls` (solo5_tls_size() bytes): the initial values of
 * __thread variables, zeroes, and the word at the thread pointer pointing
 * to itself. Returns SOLO5_R_EINVAL for a NULL block.
 */
solo5_result_t solo5_tls_init(uintptr_t tls);

/*
 * Sets the architecture's thread pointer (%fs base on x86_64) to `base`.
 * The caller lays out the TLS block itself; `__thread` variables are reached
 * relative to this pointer. Returns SOLO5_R_OK, or SOLO5_R_EINVAL if the
 * host refuses the value (e.g. a non-canonical address).
 */
solo5_result_t solo5_set_tls_base(uintptr_t base);

/* ------------------------------------------------------------------------
 * Time
 */

/* Nanoseconds since an arbitrary point in the past; never goes backwards. */
solo5_time_t solo5_clock_monotonic(void);

/* Nanoseconds since the Unix epoch (1970-01-01T00:00:00Z), as the host says. */
solo5_time_t solo5_clock_wall(void);

/*
 * Sleeps until the monotonic clock reaches `deadline` or until one of the
 * acquired devices has something to offer, whichever comes first. A
 * deadline that has already passed (including 0) returns at once. On return,
 * if `ready_set` is not NULL, *ready_set holds the handles that are ready
 * (0 when the deadline was reached).
 */
void solo5_yield(solo5_time_t deadline, solo5_handle_set_t *ready_set);

/* ------------------------------------------------------------------------
 * Console
 */

/*
 * Writes `size` bytes to the console, exactly as given (no added newline or
 * translation). The tender passes them to its standard output untouched.
 */
void solo5_console_write(const char *buf, size_t size);

/* ------------------------------------------------------------------------
 * Network devices
 */

/* Bytes in an Ethernet MAC address. */
#define SOLO5_NET_ALEN 6
/* Bytes in an Ethernet header (two addresses and the EtherType). */
#define SOLO5_NET_HLEN 14

/* Properties of an acquired network device. */
struct solo5_net_info {
    uint8_t mac_address[SOLO5_NET_ALEN];
    /* Largest payload after the Ethernet header, in bytes. */
    size_t mtu;
};

/*
 * Acquires the network device the manifest declares as `name`. On success
 * *handle and *info are filled in. Returns SOLO5_R_EINVAL if the manifest
 * has no NET_BASIC device of that name, SOLO5_R_EUNSPEC if it is declared
 * but cannot be used (for instance not attached by the tender).
 */
solo5_result_t solo5_net_acquire(const char *name, solo5_handle_t *handle, struct solo5_net_info *info);

/*
 * Sends one Ethernet frame of `size` bytes (header included; at most
 * mtu + SOLO5_NET_HLEN). Returns SOLO5_R_EINVAL for a bad handle or size.
 */
solo5_result_t solo5_net_write(solo5_handle_t handle, const uint8_t *buf, size_t size);

/*
 * Receives one Ethernet frame into `buf` (`size` bytes available, at least
 * mtu + SOLO5_NET_HLEN) and stores its length in *read_size. Returns
 * SOLO5_R_AGAIN when no frame is waiting, SOLO5_R_EINVAL for a bad handle
 * or a buffer that is too small.
 */
solo5_result_t solo5_net_read(solo5_handle_t handle, uint8_t *buf, size_t size, size_t *read_size);

/* ------------------------------------------------------------------------
 * Block devices
 */

/* Properties of an acquired block device. */
struct solo5_block_info {
    /* Size of the device in bytes. */
    solo5_off_t capacity;
    /* Unit of I/O in bytes: offsets and sizes are multiples of it. */
    solo5_off_t block_size;
};

/*
 * Acquires the block device the manifest declares as `name`; results as for
 * solo5_net_acquire().
 */
solo5_result_t solo5_block_acquire(const char *name, solo5_handle_t *handle, struct solo5_block_info *info);

/*
 * Writes `size` bytes from `buf` at byte `offset`. Offset and size must be
 * multiples of the block size and lie inside the capacity, else
 * SOLO5_R_EINVAL.
 */
solo5_result_t solo5_block_write(solo5_handle_t handle, solo5_off_t offset, const uint8_t *buf, size_t size);

/* Reads `size` bytes at byte `offset` into `buf`; rules as for writes. */
solo5_result_t solo5_block_read(solo5_handle_t handle, solo5_off_t offset, uint8_t *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SOLO5_H */
