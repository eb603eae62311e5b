/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POSIX-shell word splitting without expansion (argv-split.h). */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "argv-split.h"
#include "cleanup.h"

int argv_split(const char *s, char ***ret, size_t *ret_error_offset) {
        _cleanup_(strv_freep) char **l = NULL;
        _cleanup_(freep) char *word = NULL;
        size_t n = 0, wl = 0, slen;
        bool started = false;

        if (!s || !ret)
                return -EINVAL;

        slen = strlen(s);
        /* Words are never longer than the input, and there are at most slen/2+1 of them. */
        word = malloc(slen + 1);
        l = calloc(slen / 2 + 2, sizeof(char *));
        if (!word || !l)
                return -ENOMEM;

        for (size_t i = 0; i <= slen; i++) {
                char c = s[i];

                if (c == 0 || c == ' ' || c == '\t' || c == '\n') {
                        if (started) {
                                l[n] = strndup(word, wl);
                                if (!l[n])
                                        return -ENOMEM;
                                n++;
                                wl = 0;
                                started = false;
                        }
                        continue;
                }

                started = true;

                if (c == '\\') {
                        if (s[i + 1] == 0) {
                                if (ret_error_offset)
                                        *ret_error_offset = i;
                                return -EINVAL;
                        }
                        i++;
                        if (s[i] != '\n')       /* backslash-newline is a line continuation */
                                word[wl++] = s[i];
                        continue;
                }

                if (c == '\'') {
                        const char *close = strchr(s + i + 1, '\'');

                        if (!close) {
                                if (ret_error_offset)
                                        *ret_error_offset = i;
                                return -EINVAL;
                        }
                        memcpy(word + wl, s + i + 1, (size_t) (close - (s + i + 1)));
                        wl += (size_t) (close - (s + i + 1));
                        i = (size_t) (close - s);
                        continue;
                }

                if (c == '"') {
                        size_t open = i;

                        for (i++;; i++) {
                                if (s[i] == 0) {
                                        if (ret_error_offset)
                                                *ret_error_offset = open;
                                        return -EINVAL;
                                }
                                if (s[i] == '"')
                                        break;
                                /* Inside double quotes a backslash only escapes $ ` " \ and newline
                                 * (POSIX 2.2.3); before any other character it stays itself, which
                                 * keeps Windows-style "C:\path" intact. */
                                if (s[i] == '\\' && s[i + 1] && strchr("$`\"\\\n", s[i + 1])) {
                                        i++;
                                        if (s[i] != '\n')
                                                word[wl++] = s[i];
                                        continue;
                                }
                                word[wl++] = s[i];
                        }
                        continue;
                }

                word[wl++] = c;
        }

        l[n] = NULL;
        *ret = TAKE_PTR(l);
        return 0;
}

