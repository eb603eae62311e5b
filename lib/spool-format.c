/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The spool format: names, run ids, .meta text, the marker line of a cut log (see spool-format.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "alloc-util.h"
#include "cleanup.h"
#include "macro.h"
#include "regular-file.h"
#include "spool-format.h"
#include "string-util.h"

#define STATE_STRING(finished) \
        ((finished) ? SESSION_SCRIPTS_SPOOL_STATE_FINISHED : SESSION_SCRIPTS_SPOOL_STATE_RUNNING)

static bool run_id_is_valid_n(const char *s, size_t len) {
        if (len != SPOOL_RUN_ID_LEN)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return true;
}

bool spool_run_id_is_valid(const char *s) {
        return s && run_id_is_valid_n(s, strlen(s));
}

void spool_run_id_generate(char ret[static SPOOL_RUN_ID_LEN + 1]) {
        static const char hex[] = "0123456789abcdef";
        uint8_t b[SPOOL_RUN_ID_LEN / 2];
        size_t got = 0;

        /* getrandom() of 16 bytes does not fail once the pool is initialised (always so after boot). */
        while (got < sizeof b) {
                ssize_t k = getrandom(b + got, sizeof b - got, GRND_INSECURE);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        for (; got < sizeof b; got++)
                                b[got] = (uint8_t) random();
                        break;
                }
                got += (size_t) k;
        }

        for (size_t i = 0; i < sizeof b; i++) {
                ret[2 * i] = hex[b[i] >> 4];
                ret[2 * i + 1] = hex[b[i] & 15];
        }
        ret[SPOOL_RUN_ID_LEN] = 0;
}

int spool_name_format(char ret[static SPOOL_NAME_SIZE], const char *run_id, SpoolFileKind kind) {
        if (!spool_run_id_is_valid(run_id))
                return -EINVAL;

        switch (kind) {
        case SPOOL_FILE_LOG:
                snprintf(ret, SPOOL_NAME_SIZE, "%s" SESSION_SCRIPTS_SPOOL_LOG_SUFFIX, run_id);
                return 0;
        case SPOOL_FILE_META:
                snprintf(ret, SPOOL_NAME_SIZE, "%s" SESSION_SCRIPTS_SPOOL_META_SUFFIX, run_id);
                return 0;
        case SPOOL_FILE_META_TEMP:
                snprintf(ret, SPOOL_NAME_SIZE, ".%s" SPOOL_META_TEMP_SUFFIX, run_id);
                return 0;
        }
        return -EINVAL;
}

int spool_name_parse(const char *name, char ret_run_id[static SPOOL_RUN_ID_LEN + 1],
                     SpoolFileKind *ret_kind) {
        SpoolFileKind kind;
        const char *suffix;

        if (!name || strlen(name) <= SPOOL_RUN_ID_LEN || !run_id_is_valid_n(name, SPOOL_RUN_ID_LEN))
                return -EINVAL;

        suffix = name + SPOOL_RUN_ID_LEN;
        if (streq(suffix, SESSION_SCRIPTS_SPOOL_LOG_SUFFIX))
                kind = SPOOL_FILE_LOG;
        else if (streq(suffix, SESSION_SCRIPTS_SPOOL_META_SUFFIX))
                kind = SPOOL_FILE_META;
        else
                return -EINVAL;

        memcpy(ret_run_id, name, SPOOL_RUN_ID_LEN);
        ret_run_id[SPOOL_RUN_ID_LEN] = 0;
        *ret_kind = kind;
        return 0;
}

bool spool_name_is_meta_temp(const char *name) {
        const char *p;

        if (!name || name[0] != '.')
                return false;
        p = name + 1;
        return strlen(p) == SPOOL_RUN_ID_LEN + strlen(SPOOL_META_TEMP_SUFFIX) &&
                run_id_is_valid_n(p, SPOOL_RUN_ID_LEN) &&
                streq(p + SPOOL_RUN_ID_LEN, SPOOL_META_TEMP_SUFFIX);
}

bool spool_key_is_valid(const char *key) {
        size_t n;

        if (!key)
                return false;
        n = strlen(key);
        if (n == 0 || n > SPOOL_KEY_MAX || key[0] == '/')
                return false;

        for (const char *p = key; *p; p++)
                if (char_is_cc(*p))
                        return false;

        /* Each component between slashes: not empty, not "." or "..". */
        for (const char *c = key;;) {
                const char *e = strchrnul(c, '/');
                size_t len = (size_t) (e - c);

                if (len == 0 || (len == 1 && c[0] == '.') || (len == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                if (*e == 0)
                        break;
                c = e + 1;
        }
        return true;
}

/* Appends "NAME=value\n" with the control characters of value written as '_'. */
static void meta_append(FILE *f, const char *name, const char *value) {
        fputs(name, f);
        fputc('=', f);
        for (const char *p = value ?: ""; *p; p++)
                fputc(char_is_cc(*p) ? '_' : *p, f);
        fputc('\n', f);
}

int spool_meta_format(const SpoolMeta *m, char **ret, size_t *ret_size) {
        _cleanup_(freep) char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (!m || !ret || !ret_size)
                return -EINVAL;
        if (!spool_key_is_valid(m->key))
                return -EINVAL;

        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        meta_append(f, "KEY", m->key);
        meta_append(f, "STATE", STATE_STRING(m->finished));
        meta_append(f, "SESSION_ID", m->session_id);
        meta_append(f, "EVENT", m->event);
        meta_append(f, "CONTEXT", m->context);
        meta_append(f, "USER", m->user);
        if (fclose(f) != 0)
                return -ENOMEM;

        /* Measured with the longer state, so that a written entry can always be finished. */
        if (size - strlen(STATE_STRING(m->finished)) + strlen(SESSION_SCRIPTS_SPOOL_STATE_FINISHED) >
            SPOOL_META_SIZE_MAX)
                return -EFBIG;

        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}

void spool_meta_done(SpoolMeta *m) {
        if (!m)
                return;
        /* Owned (see the header): the const is for the writers' borrowed ones. */
        free((char *) m->key);
        free((char *) m->session_id);
        free((char *) m->event);
        free((char *) m->context);
        free((char *) m->user);
        *m = (SpoolMeta) {};
}

int spool_meta_copy(const SpoolMeta *m, SpoolMeta *ret) {
        _cleanup_(spool_meta_done) SpoolMeta c = {
                .key = strdup_or_null(m->key),
                .session_id = strdup_or_null(m->session_id),
                .event = strdup_or_null(m->event),
                .context = strdup_or_null(m->context),
                .user = strdup_or_null(m->user),
                .finished = m->finished,
        };

        if ((m->key && !c.key) || (m->session_id && !c.session_id) || (m->event && !c.event) ||
            (m->context && !c.context) || (m->user && !c.user))
                return -ENOMEM;

        *ret = c;
        c = (SpoolMeta) {};
        return 0;
}

static int set_field(const char **field, const char *value, size_t len) {
        char *copy = strndup(value, len);

        if (!copy)
                return -ENOMEM;
        free((char *) *field);
        *field = copy;
        return 0;
}

static bool token_eq(const char *s, size_t len, const char *token) {
        return len == strlen(token) && memcmp(s, token, len) == 0;
}

int spool_meta_parse(const char *text, size_t len, SpoolMeta *ret) {
        _cleanup_(spool_meta_done) SpoolMeta m = {};
        int state = -1;         /* -1 unknown, 0 running, 1 finished */
        const char *p = text, *end = text + len;

        if (len > SPOOL_META_SIZE_MAX)
                return -EFBIG;

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p)), *eq, *value;
                const char *line_end = nl ?: end;
                size_t name_len, value_len;
                int r = 0;

                eq = memchr(p, '=', (size_t) (line_end - p));
                if (!eq || memchr(p, 0, (size_t) (line_end - p)))
                        goto next;      /* not an assignment (or binary junk): ignore the line */

                name_len = (size_t) (eq - p);
                value = eq + 1;
                value_len = (size_t) (line_end - value);
                if (value_len > 0 && value[value_len - 1] == '\r')
                        value_len--;

                if (token_eq(p, name_len, "KEY"))
                        r = set_field(&m.key, value, value_len);
                else if (token_eq(p, name_len, "STATE")) {
                        if (token_eq(value, value_len, SESSION_SCRIPTS_SPOOL_STATE_RUNNING))
                                state = 0;
                        else if (token_eq(value, value_len, SESSION_SCRIPTS_SPOOL_STATE_FINISHED))
                                state = 1;
                        else
                                state = -1;
                } else if (token_eq(p, name_len, "SESSION_ID"))
                        r = set_field(&m.session_id, value, value_len);
                else if (token_eq(p, name_len, "EVENT"))
                        r = set_field(&m.event, value, value_len);
                else if (token_eq(p, name_len, "CONTEXT"))
                        r = set_field(&m.context, value, value_len);
                else if (token_eq(p, name_len, "USER"))
                        r = set_field(&m.user, value, value_len);
                if (r < 0)
                        return r;
        next:
                if (!nl)
                        break;
                p = nl + 1;
        }

        if (state < 0 || !spool_key_is_valid(m.key))
                return -EBADMSG;

        m.finished = state == 1;
        *ret = m;
        m = (SpoolMeta) {};
        return 0;
}

int spool_meta_load(int dir_fd, const char *run_id, SpoolMeta *ret) {
        _cleanup_(freep) char *text = NULL;
        char name[SPOOL_NAME_SIZE];
        size_t len;
        int r;

        r = spool_name_format(name, run_id, SPOOL_FILE_META);
        if (r < 0)
                return r;

        r = read_regular_file_at(dir_fd, name, O_NOFOLLOW, SPOOL_META_SIZE_MAX, &text, &len);
        if (r < 0)
                return r;

        return spool_meta_parse(text, len, ret);
}

size_t spool_marker_format(char ret[static SPOOL_MARKER_SIZE], uint64_t max_spool_size, bool mid_line) {
        int n;

        n = snprintf(ret, SPOOL_MARKER_SIZE,
                     "%s" SPOOL_MARKER_TEXT ": the log spool is full (MaxSpoolSize=%" PRIu64 ")\n",
                     mid_line ? "\n" : "", max_spool_size);
        return n > 0 ? MIN((size_t) n, (size_t) SPOOL_MARKER_SIZE - 1) : 0;
}
