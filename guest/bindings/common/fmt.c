/* fmt.c: a small vsnprintf for the bindings' banner and log lines and for applications (sn_printf.h). */
#include "bindings.h"

/* Output cursor: counts every byte, stores only those that fit. */
struct out {
    char *buf;
    size_t size;
    size_t len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    int left;      /* '-' flag */
    int zero;      /* '0' flag */
    int width;
    int prec;      /* -1 when absent; only limits %s */
};

static void put_str(struct out *o, const struct spec *sp, const char *s, size_t n)
{
    int fill = sp->width > (int)n ? sp->width - (int)n : 0;

    if (!sp->left)
        pad(o, ' ', fill);
    for (size_t i = 0; i < n; i++)
        put(o, s[i]);
    if (sp->left)
        pad(o, ' ', fill);
}

static void put_num(struct out *o, const struct spec *sp, uint64_t v, int negative, unsigned base, int upper,
                    const char *prefix)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24]; /* 2^64 in octal would need 22; base >= 10 needs at most 20 */
    int n = 0;
    int plen = (int)strlen(prefix) + (negative ? 1 : 0);

    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v != 0);

    int fill = sp->width > n + plen ? sp->width - n - plen : 0;
    if (!sp->left && !sp->zero)
        pad(o, ' ', fill);
    if (negative)
        put(o, '-');
    for (const char *p = prefix; *p != '\0'; p++)
        put(o, *p);
    if (!sp->left && sp->zero)
        pad(o, '0', fill);
    while (n > 0)
        put(o, tmp[--n]);
    if (sp->left)
        pad(o, ' ', fill);
}

int sn_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (const char *p = fmt; *p != '\0'; p++) {
        if (*p != '%') {
            put(&o, *p);
            continue;
        }
        const char *start = p++;
        struct spec sp = { 0, 0, 0, -1 };
        for (;; p++) {
            if (*p == '-')
                sp.left = 1;
            else if (*p == '0')
                sp.zero = 1;
            else
                break;
        }
        while (*p >= '0' && *p <= '9')
            sp.width = sp.width * 10 + (*p++ - '0');
        if (*p == '.') {
            p++;
            if (*p == '*') {
                sp.prec = va_arg(ap, int);
                p++;
            } else {
                sp.prec = 0;
                while (*p >= '0' && *p <= '9')
                    sp.prec = sp.prec * 10 + (*p++ - '0');
            }
        }
        int longs = 0;
        if (*p == 'z') {
            longs = 2; /* size_t is 64-bit here */
            p++;
        }
        while (*p == 'l' && longs < 2) {
            longs++;
            p++;
        }

        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
            put_num(&o, &sp, mag, v < 0, 10, 0, "");
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned int);
            put_num(&o, &sp, v, 0, *p == 'u' ? 10 : 16, *p == 'X', "");
            break;
        }
        case 'p':
            put_num(&o, &sp, (uintptr_t)va_arg(ap, void *), 0, 16, 0, "0x");
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (s == NULL)
                s = "(null)";
            put_str(&o, &sp, s, sp.prec >= 0 ? strnlen(s, (size_t)sp.prec) : strlen(s));
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);
            put_str(&o, &sp, &c, 1);
            break;
        }
        case '%':
            put(&o, '%');
            break;
        default:
            /* Unknown or truncated conversion: copy it through as written. */
            for (const char *q = start; q <= p && *q != '\0'; q++)
                put(&o, *q);
            if (*p == '\0')
                p--;
            break;
        }
    }
    if (size > 0)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int sn_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    int n = sn_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

int sn_printf(const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    int n = sn_vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    solo5_console_write(line, len);
    return (int)len;
}

void sn_puts(const char *s)
{
    solo5_console_write(s, strlen(s));
}
