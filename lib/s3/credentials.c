/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Credentials from the environment, the shared credentials file and IMDS answers; expiry arithmetic
 * (see credentials.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>

#include "cleanup.h"
#include "credentials.h"
#include "fileio.h"
#include "regular-file.h"

char *secret_free(char *s) {
        if (!s)
                return NULL;
        explicit_bzero(s, strlen(s));
        free(s);
        return NULL;
}

void credentials_done(Credentials *c) {
        if (!c)
                return;
        free(c->access_key_id);
        secret_free(c->secret_access_key);
        secret_free(c->session_token);
        *c = (Credentials) {};
}

const char *credential_source_to_string(CredentialSource s) {
        switch (s) {
        case CREDENTIAL_SOURCE_ENVIRONMENT:
                return "environment";
        case CREDENTIAL_SOURCE_FILE:
                return "credentials file";
        case CREDENTIAL_SOURCE_IMDS:
                return "instance metadata (IMDSv2)";
        default:
                return "none";
        }
}

/* A credential value: printable ASCII without blanks, bounded. */
static bool value_is_valid(const char *v, size_t len) {
        if (len == 0 || len > CREDENTIALS_FIELD_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if ((unsigned char) v[i] <= 0x20 || (unsigned char) v[i] >= 0x7f)
                        return false;
        return true;
}

int credentials_from_environment(Credentials *ret) {
        const char *id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY"),
                   *token = getenv("AWS_SESSION_TOKEN");
        _cleanup_(credentials_done) Credentials c = { .source = CREDENTIAL_SOURCE_ENVIRONMENT };

        if (!id || !secret || !value_is_valid(id, strlen(id)) || !value_is_valid(secret, strlen(secret)))
                return -ENOENT;

        c.access_key_id = strdup(id);
        c.secret_access_key = strdup(secret);
        if (!c.access_key_id || !c.secret_access_key)
                return -ENOMEM;
        if (token && value_is_valid(token, strlen(token))) {
                c.session_token = strdup(token);
                if (!c.session_token)
                        return -ENOMEM;
        }

        *ret = c;
        c = (Credentials) {};
        return 0;
}

static const char *skip_blanks(const char *p, const char *end) {
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        return p;
}

static const char *trim_end(const char *start, const char *end) {
        while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                end--;
        return end;
}

static bool span_eq_nocase(const char *p, size_t len, const char *s) {
        return len == strlen(s) && strncasecmp(p, s, len) == 0;
}

int credentials_file_parse(const char *text, size_t len, const char *profile, Credentials *ret) {
        _cleanup_(credentials_done) Credentials c = { .source = CREDENTIAL_SOURCE_FILE };
        const char *p = text, *end = text + len;
        bool in_profile = false, found = false;

        if (len > CREDENTIALS_FILE_MAX_SIZE)
                return -EFBIG;
        if (!profile || !*profile)
                profile = "default";

        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *line_end = nl ?: end, *l, *le;

                l = skip_blanks(p, line_end);
                le = trim_end(l, line_end);
                p = nl ? nl + 1 : end;

                if (l == le || *l == '#' || *l == ';')
                        continue;

                if (*l == '[') {
                        const char *close = memchr(l, ']', (size_t) (le - l)), *n, *ne;

                        in_profile = false;
                        if (!close)
                                continue;
                        n = skip_blanks(l + 1, close);
                        ne = trim_end(n, close);
                        /* "[profile NAME]" is the config file's spelling; accept it here too. */
                        if ((size_t) (ne - n) > 8 && strncmp(n, "profile", 7) == 0 && (n[7] == ' ' || n[7] == '\t'))
                                n = skip_blanks(n + 8, ne);
                        if ((size_t) (ne - n) == strlen(profile) && memcmp(n, profile, (size_t) (ne - n)) == 0) {
                                /* A profile that appears twice: later assignments win, as in the CLI. */
                                in_profile = true;
                                found = true;
                        }
                        continue;
                }

                if (!in_profile)
                        continue;

                const char *eq = memchr(l, '=', (size_t) (le - l)), *ke, *v, *ve;
                char **field;

                if (!eq)
                        continue;
                ke = trim_end(l, eq);
                v = skip_blanks(eq + 1, le);
                ve = le;

                /* An inline comment starts at a '#' or ';' preceded by a blank. Secrets never contain
                 * blanks, so this cannot cut a value. */
                for (const char *q = v; q < ve; q++)
                        if ((*q == '#' || *q == ';') && q > v && (q[-1] == ' ' || q[-1] == '\t')) {
                                ve = trim_end(v, q);
                                break;
                        }

                if (span_eq_nocase(l, (size_t) (ke - l), "aws_access_key_id"))
                        field = &c.access_key_id;
                else if (span_eq_nocase(l, (size_t) (ke - l), "aws_secret_access_key"))
                        field = &c.secret_access_key;
                else if (span_eq_nocase(l, (size_t) (ke - l), "aws_session_token"))
                        field = &c.session_token;
                else
                        continue;       /* region, output, role_arn, …: not ours */

                if (!value_is_valid(v, (size_t) (ve - v)))
                        continue;

                char *copy = strndup(v, (size_t) (ve - v));
                if (!copy)
                        return -ENOMEM;
                secret_free(*field);
                *field = copy;
        }

        if (!found)
                return -ENOENT;
        if (!c.access_key_id || !c.secret_access_key)
                return -ENODATA;

        *ret = c;
        c = (Credentials) {};
        return 0;
}

int credentials_file_load(const char *path, const char *profile, Credentials *ret) {
        _cleanup_(closep) int fd = -EBADF;
        _cleanup_(freep) char *buf = NULL;
        size_t got;
        ssize_t n;
        int r;

        fd = open_regular_file_bounded(AT_FDCWD, path, 0, CREDENTIALS_FILE_MAX_SIZE, NULL);
        if (fd < 0)
                return fd;

        buf = malloc(CREDENTIALS_FILE_MAX_SIZE + 1);
        if (!buf)
                return -ENOMEM;

        n = loop_read(fd, buf, CREDENTIALS_FILE_MAX_SIZE + 1);
        if (n < 0 || n > (ssize_t) CREDENTIALS_FILE_MAX_SIZE) {
                /* Secrets: wipe whatever part of the file was read. */
                explicit_bzero(buf, CREDENTIALS_FILE_MAX_SIZE + 1);
                return n < 0 ? (int) n : -EFBIG;
        }
        got = (size_t) n;

        r = credentials_file_parse(buf, got, profile, ret);
        explicit_bzero(buf, got);
        return r;
}

int iso8601_utc_parse(const char *s, uint64_t *ret_usec) {
        struct tm tm = {};
        const char *e;
        time_t t;

        if (!s)
                return -EINVAL;
        e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (!e)
                return -EINVAL;
        if (*e == '.') {        /* fractions of a second: ignored */
                e++;
                if (*e < '0' || *e > '9')
                        return -EINVAL;
                while (*e >= '0' && *e <= '9')
                        e++;
        }
        if (strcmp(e, "Z") != 0 && strcmp(e, "+00:00") != 0)
                return -EINVAL;

        t = timegm(&tm);
        if (t == (time_t) -1 || t < 0)
                return -EINVAL;

        *ret_usec = (usec_t) t * USEC_PER_SEC;
        return 0;
}

/* Copies a string member of obj, validated like a credential value; NULL when absent or invalid. */
static const char *json_string_member(json_object *obj, const char *name) {
        json_object *v;
        const char *s;

        if (!json_object_object_get_ex(obj, name, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        s = json_object_get_string(v);
        if (!s || !value_is_valid(s, strlen(s)))
                return NULL;
        return s;
}

int credentials_imds_parse(const char *json, size_t len, Credentials *ret) {
        _cleanup_(credentials_done) Credentials c = { .source = CREDENTIAL_SOURCE_IMDS };
        json_tokener *tok;
        json_object *obj;
        const char *code, *id, *secret, *token, *expiration;
        int r = -EBADMSG;

        if (len > CREDENTIALS_FILE_MAX_SIZE)
                return -EBADMSG;

        tok = json_tokener_new();
        if (!tok)
                return -ENOMEM;
        obj = json_tokener_parse_ex(tok, json, (int) len);
        if (json_tokener_get_error(tok) != json_tokener_success || !obj ||
            !json_object_is_type(obj, json_type_object))
                goto finish;

        code = json_string_member(obj, "Code");
        id = json_string_member(obj, "AccessKeyId");
        secret = json_string_member(obj, "SecretAccessKey");
        token = json_string_member(obj, "Token");
        expiration = json_string_member(obj, "Expiration");

        /* Code is optional in the fixtures of some SDKs; when present it must say Success. */
        if ((code && strcmp(code, "Success") != 0) || !id || !secret)
                goto finish;
        if (expiration && iso8601_utc_parse(expiration, &c.expiration_usec) < 0)
                goto finish;

        r = -ENOMEM;
        c.access_key_id = strdup(id);
        c.secret_access_key = strdup(secret);
        if (!c.access_key_id || !c.secret_access_key)
                goto finish;
        if (token) {
                c.session_token = strdup(token);
                if (!c.session_token)
                        goto finish;
        }

        *ret = c;
        c = (Credentials) {};
        r = 0;

finish:
        if (obj) {
                /* json-c keeps the parsed secret in its string objects: wipe them before freeing. */
                json_object *v;
                if (json_object_is_type(obj, json_type_object))
                        for (const char *const *n = (const char *const[]) { "SecretAccessKey", "Token", NULL }; *n; n++)
                                if (json_object_object_get_ex(obj, *n, &v) && json_object_is_type(v, json_type_string))
                                        explicit_bzero((char *) json_object_get_string(v),
                                                       (size_t) json_object_get_string_len(v));
                json_object_put(obj);
        }
        json_tokener_free(tok);
        return r;
}

int imds_role_name_parse(const char *text, size_t len, char **ret) {
        const char *p = text, *end = text + len, *le;
        char *name;

        p = skip_blanks(p, end);
        while (p < end && (*p == '\n' || *p == '\r'))
                p++;
        le = memchr(p, '\n', (size_t) (end - p)) ?: end;
        le = trim_end(p, le);

        if (le == p || le - p > 128)
                return -EBADMSG;
        for (const char *q = p; q < le; q++)
                if (!((*q >= 'A' && *q <= 'Z') || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9') ||
                      strchr("+=,.@_-", *q)))
                        return -EBADMSG;

        name = strndup(p, (size_t) (le - p));
        if (!name)
                return -ENOMEM;
        *ret = name;
        return 0;
}

uint64_t credentials_refresh_at(const Credentials *c) {
        uint64_t start, usable_until;

        if (!c || c->expiration_usec == 0)
                return UINT64_MAX;

        start = c->obtained_usec;
        if (start >= c->expiration_usec)
                return start;   /* expired when obtained: at once */

        if (c->expiration_usec - start > 2 * CREDENTIALS_REFRESH_MARGIN_USEC)
                return c->expiration_usec - CREDENTIALS_REFRESH_MARGIN_USEC;

        /* Short-lived: half-way to the last moment they can sign, so that the new ones arrive while
         * the old ones still work. */
        usable_until = c->expiration_usec > start + CREDENTIALS_EXPIRY_SLACK_USEC ?
                c->expiration_usec - CREDENTIALS_EXPIRY_SLACK_USEC : start;
        return start + (usable_until - start) / 2;
}

bool credentials_need_refresh(const Credentials *c, uint64_t now_usec) {
        uint64_t t = credentials_refresh_at(c);

        return t != UINT64_MAX && now_usec >= t;
}

bool credentials_usable(const Credentials *c, uint64_t now_usec) {
        if (!c || !c->access_key_id || !c->secret_access_key)
                return false;
        return c->expiration_usec == 0 || c->expiration_usec > now_usec + CREDENTIALS_EXPIRY_SLACK_USEC;
}
