/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pam-session-timer: the measuring tool of bench/open-session-latency.sh. Logs USER in N times
 * through each given PAM service in turn (pam_start, pam_open_session, pam_close_session, pam_end)
 * and prints one line per login: "SERVICE OPEN_USEC CLOSE_USEC RESULT", timing only the
 * pam_open_session()/pam_close_session() calls (CLOCK_MONOTONIC). Messages of the conversation are
 * discarded. Not installed; copied into the test bed by the benchmark.
 */

#include <errno.h>
#include <inttypes.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A bound on what the command line can ask for. */
#define ITERATIONS_MAX 100000

static int conv_silent(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
        struct pam_response *r = calloc((size_t) n, sizeof(struct pam_response));

        if (!r)
                return PAM_BUF_ERR;
        *resp = r;      /* no prompts expected; info and error messages are dropped */
        return PAM_SUCCESS;
}

static uint64_t now_usec(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000U + (uint64_t) ts.tv_nsec / 1000U;
}

/* One login through service; prints its line. Returns 0 or -EIO. */
static int login_once(const char *service, const char *user) {
        const struct pam_conv conv = { conv_silent, NULL };
        pam_handle_t *h = NULL;
        uint64_t t0, t1, t2;
        int r, ro, rc;

        r = pam_start(service, user, &conv, &h);
        if (r != PAM_SUCCESS) {
                fprintf(stderr, "pam_start(%s, %s) failed: %d\n", service, user, r);
                return -EIO;
        }

        t0 = now_usec();
        ro = pam_open_session(h, 0);
        t1 = now_usec();
        rc = pam_close_session(h, 0);
        t2 = now_usec();

        printf("%s %" PRIu64 " %" PRIu64 " %s\n", service, t1 - t0, t2 - t1,
               ro == PAM_SUCCESS && rc == PAM_SUCCESS ? "ok" : "failed");
        (void) pam_end(h, ro == PAM_SUCCESS ? rc : ro);
        return ro == PAM_SUCCESS && rc == PAM_SUCCESS ? 0 : -EIO;
}

int main(int argc, char *argv[]) {
        char *end;
        long n;
        int failed = 0;

        if (argc < 4) {
                fprintf(stderr, "Usage: %s ITERATIONS USER SERVICE...\n", argv[0]);
                return EXIT_FAILURE;
        }
        errno = 0;
        n = strtol(argv[1], &end, 10);
        if (errno != 0 || *end || n < 1 || n > ITERATIONS_MAX) {
                fprintf(stderr, "Invalid iteration count: %s\n", argv[1]);
                return EXIT_FAILURE;
        }

        /* Interleaved, so that drift (caches, journal rotation, …) hits every service alike. */
        for (long i = 0; i < n; i++)
                for (int s = 3; s < argc; s++)
                        if (login_once(argv[s], argv[2]) < 0)
                                failed++;

        return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
