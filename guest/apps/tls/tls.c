/* tls.c: checks thread-local storage: __thread variables follow the base set with solo5_set_tls_base. */
#include "solo5.h"
#include "sn_printf.h"

/*
 * The application owns TLS on Solo5: it allocates each block, fills it with
 * solo5_tls_init() and hands the thread pointer solo5_tls_tp_offset() gives
 * to solo5_set_tls_base(). Only the public API is used, so this runs on both
 * ABIs. On x86_64 (TLS variant II) the block ends at the thread pointer, and
 * the first word at the thread pointer points to itself (compilers read
 * %fs:0 to take a TLS variable's address).
 */

/* Different sizes on purpose, so that the block's size is not already aligned. */
__thread char tls_char = 'x';
__thread uint64_t tls_word = 0xfeedfacecafebeefULL;
__thread int tls_zero;
__thread char tls_buf[13];

/* Room for a template padded to a page (the Solo5 ABI 2 layout) and slack. */
#define AREA_SIZE 8192
/* Off by one byte from any alignment, so that solo5_tls_tp_offset must align. */
static uint8_t area_a[AREA_SIZE + 1] __attribute__((aligned(64)));
static uint8_t area_b[AREA_SIZE + 1] __attribute__((aligned(64)));

static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        sn_printf("tls: %s\n", what);
        failures++;
    }
}

/* Fills a fresh TLS block in `area` with garbage first and returns its thread pointer. */
static uintptr_t tls_init(uint8_t *area)
{
    uintptr_t block = (uintptr_t)area + 1;
    size_t size = solo5_tls_size();

    if (size > AREA_SIZE) {
        sn_printf("tls: solo5_tls_size() is %lu, more than the test's %u\nFAILURE\n", (unsigned long)size,
                  AREA_SIZE);
        solo5_exit(SOLO5_EXIT_FAILURE);
    }
    for (size_t i = 0; i < size; i++)
        ((uint8_t *)block)[i] = 0xa5;
    expect(solo5_tls_init(block) == SOLO5_R_OK, "solo5_tls_init failed");
    uintptr_t tp = solo5_tls_tp_offset(block);
    expect(tp >= block && tp + sizeof(uintptr_t) <= block + size, "tp is outside the block");
    expect(tp % 8 == 0, "tp is not aligned");
    expect(*(uintptr_t *)tp == tp, "the word at tp does not point to itself");
    return tp;
}

/* Reads tls_word through %fs explicitly, not through whatever the compiler chooses. */
static uint64_t word_via_fs(void)
{
    uint64_t v;
    __asm__ volatile("movq %%fs:tls_word@tpoff, %0" : "=r"(v));
    return v;
}

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    uintptr_t a = tls_init(area_a), b = tls_init(area_b);

    expect(solo5_set_tls_base(a) == SOLO5_R_OK, "solo5_set_tls_base(a) failed");
    expect(tls_char == 'x' && tls_word == 0xfeedfacecafebeefULL, "initial values wrong in block a");
    expect(tls_zero == 0 && tls_buf[12] == 0, "zeroed values wrong in block a");
    expect(word_via_fs() == 0xfeedfacecafebeefULL, "%fs-relative read wrong in block a");
    tls_char = 'a';
    tls_word = 1;
    tls_zero = 100;
    tls_buf[12] = 'A';
    expect((uintptr_t)&tls_word > a - AREA_SIZE && (uintptr_t)&tls_word < a,
           "&tls_word is not inside block a");
    expect(solo5_tls_init(0) == SOLO5_R_EINVAL, "solo5_tls_init(0) was accepted");

    expect(solo5_set_tls_base(b) == SOLO5_R_OK, "solo5_set_tls_base(b) failed");
    expect(tls_char == 'x' && tls_word == 0xfeedfacecafebeefULL && tls_zero == 0,
           "block b does not start from the template");
    tls_word = 2;
    tls_zero = 200;

    expect(solo5_set_tls_base(a) == SOLO5_R_OK, "solo5_set_tls_base(a) again failed");
    expect(tls_char == 'a' && tls_word == 1 && tls_zero == 100 && tls_buf[12] == 'A',
           "block a lost its values");
    expect(word_via_fs() == 1, "%fs-relative read wrong after switching back");
    expect(solo5_set_tls_base(b) == SOLO5_R_OK && tls_word == 2 && tls_zero == 200,
           "block b lost its values");

    /* A non-canonical thread pointer is refused, not installed. */
    expect(solo5_set_tls_base(0x8000000000000000ULL) == SOLO5_R_EINVAL, "a non-canonical base was accepted");
    expect(tls_word == 2, "a refused base changed the thread pointer");

    if (failures != 0) {
        sn_puts("FAILURE\n");
        return SOLO5_EXIT_FAILURE;
    }
    sn_puts("SUCCESS\n");
    return SOLO5_EXIT_SUCCESS;
}
