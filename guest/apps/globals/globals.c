/* globals.c: checks that the tender loaded initialised data and zeroed bss as the ELF describes. */
#include "solo5.h"
#include "sn_printf.h"

/*
 * Data of several sizes and alignments, some initialised (.data), some not
 * (.bss, which the tender must zero: it has no bytes in the file). volatile
 * keeps the compiler from answering the checks at build time.
 */
static volatile int answer = 42;
static volatile uint64_t pattern = 0x0123456789abcdefULL;
static volatile char greeting[] = "initialised";
static volatile const char *volatile pointer = "rodata";
static volatile int zeroed_int;
static volatile uint64_t zeroed_words[512];
static volatile char zeroed_bytes[3000];

static int failures;

static void expect(int ok, const char *what)
{
    if (!ok) {
        sn_printf("globals: %s is wrong\n", what);
        failures++;
    }
}

int solo5_app_main(const struct solo5_start_info *si)
{
    (void)si;
    expect(answer == 42, "initialised int");
    expect(pattern == 0x0123456789abcdefULL, "initialised uint64_t");
    expect(greeting[0] == 'i' && greeting[10] == 'd' && greeting[11] == '\0', "initialised array");
    expect(pointer[0] == 'r' && pointer[5] == 'a', "pointer to rodata");
    expect(zeroed_int == 0, "zeroed int");
    for (size_t i = 0; i < sizeof zeroed_words / sizeof zeroed_words[0]; i++)
        expect(zeroed_words[i] == 0, "zeroed uint64_t array");
    for (size_t i = 0; i < sizeof zeroed_bytes; i++)
        expect(zeroed_bytes[i] == 0, "zeroed char array");

    /* Both kinds of data must also be writable. */
    answer++;
    zeroed_words[511] = 7;
    greeting[0] = 'I';
    expect(answer == 43 && zeroed_words[511] == 7 && greeting[0] == 'I', "written data");

    if (failures != 0) {
        sn_puts("FAILURE\n");
        return SOLO5_EXIT_FAILURE;
    }
    sn_puts("SUCCESS\n");
    return SOLO5_EXIT_SUCCESS;
}
