/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Unit tests of lib/s3/credentials.c: the environment source, the shared credentials file (profiles,
 * comments, blanks, "[profile x]", incomplete profiles), IMDS answers (role list, credentials JSON,
 * timestamps) and when temporary credentials are refreshed (a fixed point before expiry, not one that
 * moves with the time of asking).
 */
#include <stdlib.h>
#include <unistd.h>

#include "credentials.h"
#include "tests.h"

static void test_environment(void) {
        Credentials c = {};

        unsetenv("AWS_ACCESS_KEY_ID");
        unsetenv("AWS_SECRET_ACCESS_KEY");
        unsetenv("AWS_SESSION_TOKEN");
        ASSERT_ERROR(credentials_from_environment(&c), ENOENT);

        setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
        ASSERT_ERROR(credentials_from_environment(&c), ENOENT);
        setenv("AWS_SECRET_ACCESS_KEY", "", 1);
        ASSERT_ERROR(credentials_from_environment(&c), ENOENT);

        setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
        ASSERT_OK(credentials_from_environment(&c));
        ASSERT_STREQ(c.access_key_id, "AKIDEXAMPLE");
        ASSERT_STREQ(c.secret_access_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
        ASSERT_TRUE(c.session_token == NULL);
        ASSERT_EQ(c.source, CREDENTIAL_SOURCE_ENVIRONMENT);
        ASSERT_EQ(c.expiration_usec, 0);
        credentials_done(&c);

        setenv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEJr//////////token", 1);
        ASSERT_OK(credentials_from_environment(&c));
        ASSERT_STREQ(c.session_token, "FwoGZXIvYXdzEJr//////////token");
        credentials_done(&c);
        ASSERT_TRUE(c.access_key_id == NULL);

        unsetenv("AWS_ACCESS_KEY_ID");
        unsetenv("AWS_SECRET_ACCESS_KEY");
        unsetenv("AWS_SESSION_TOKEN");
}

static const char credentials_file[] =
        "# AWS shared credentials\n"
        "[default]\n"
        "aws_access_key_id=AKIDDEFAULT\n"
        "aws_secret_access_key=secretdefault\n"
        "\n"
        "  [ appstream_machine_role ]  \n"
        "; a comment\n"
        "\taws_access_key_id   =   ASIAROLE   \n"
        "AWS_Secret_Access_Key = secret/role+key   # inline comment\n"
        "aws_session_token=tokenrole ; another\n"
        "region = eu-west-1\n"
        "credential_process = /bin/false\n"
        "\n"
        "[profile other]\r\n"
        "aws_access_key_id = AKIDOTHER\r\n"
        "aws_secret_access_key = s#cret;other\r\n"
        "\n"
        "[incomplete]\n"
        "aws_access_key_id = AKIDINCOMPLETE\n"
        "[twice]\n"
        "aws_access_key_id = FIRST\n"
        "aws_secret_access_key = first\n"
        "[default2]\n"
        "[twice]\n"
        "aws_access_key_id = SECOND\n";

static void test_file(void) {
        size_t len = strlen(credentials_file);
        Credentials c = {};

        ASSERT_OK(credentials_file_parse(credentials_file, len, "default", &c));
        ASSERT_STREQ(c.access_key_id, "AKIDDEFAULT");
        ASSERT_STREQ(c.secret_access_key, "secretdefault");
        ASSERT_TRUE(c.session_token == NULL);
        ASSERT_EQ(c.source, CREDENTIAL_SOURCE_FILE);
        credentials_done(&c);

        /* NULL and "" mean "default". */
        ASSERT_OK(credentials_file_parse(credentials_file, len, NULL, &c));
        ASSERT_STREQ(c.access_key_id, "AKIDDEFAULT");
        credentials_done(&c);

        ASSERT_OK(credentials_file_parse(credentials_file, len, "appstream_machine_role", &c));
        ASSERT_STREQ(c.access_key_id, "ASIAROLE");
        ASSERT_STREQ(c.secret_access_key, "secret/role+key");
        ASSERT_STREQ(c.session_token, "tokenrole");
        credentials_done(&c);

        /* "[profile other]", CRLF; '#' and ';' inside a value (no blank before) are part of it. */
        ASSERT_OK(credentials_file_parse(credentials_file, len, "other", &c));
        ASSERT_STREQ(c.access_key_id, "AKIDOTHER");
        ASSERT_STREQ(c.secret_access_key, "s#cret;other");
        credentials_done(&c);

        /* A profile that appears twice: later assignments win, earlier ones stay. */
        ASSERT_OK(credentials_file_parse(credentials_file, len, "twice", &c));
        ASSERT_STREQ(c.access_key_id, "SECOND");
        ASSERT_STREQ(c.secret_access_key, "first");
        credentials_done(&c);

        ASSERT_ERROR(credentials_file_parse(credentials_file, len, "incomplete", &c), ENODATA);
        ASSERT_ERROR(credentials_file_parse(credentials_file, len, "default2", &c), ENODATA);
        ASSERT_ERROR(credentials_file_parse(credentials_file, len, "missing", &c), ENOENT);
        ASSERT_ERROR(credentials_file_parse(credentials_file, len, "defaul", &c), ENOENT);
        ASSERT_ERROR(credentials_file_parse("", 0, "default", &c), ENOENT);
        /* Only len bytes count: cut before the secret of [default]. */
        ASSERT_ERROR(credentials_file_parse(credentials_file, 50, "default", &c), ENODATA);
        ASSERT_TRUE(c.access_key_id == NULL);

        /* Through a real file. */
        char path[] = "/tmp/test-upload-credentials-XXXXXX";
        int fd = mkstemp(path);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write(fd, credentials_file, len), (ssize_t) len);
        close(fd);
        ASSERT_OK(credentials_file_load(path, "appstream_machine_role", &c));
        ASSERT_STREQ(c.session_token, "tokenrole");
        credentials_done(&c);
        unlink(path);
        ASSERT_ERROR(credentials_file_load(path, "default", &c), ENOENT);
}

static void test_iso8601(void) {
        uint64_t t = 0;

        ASSERT_OK(iso8601_utc_parse("1970-01-01T00:00:00Z", &t));
        ASSERT_EQ(t, 0);
        ASSERT_OK(iso8601_utc_parse("2024-05-01T12:34:56Z", &t));
        ASSERT_EQ(t, 1714566896ULL * 1000000ULL);
        ASSERT_OK(iso8601_utc_parse("2024-05-01T12:34:56.789Z", &t));
        ASSERT_EQ(t, 1714566896ULL * 1000000ULL);
        ASSERT_OK(iso8601_utc_parse("2024-05-01T12:34:56+00:00", &t));
        ASSERT_ERROR(iso8601_utc_parse("2024-05-01T12:34:56", &t), EINVAL);
        ASSERT_ERROR(iso8601_utc_parse("2024-05-01T12:34:56+02:00", &t), EINVAL);
        ASSERT_ERROR(iso8601_utc_parse("2024-05-01 12:34:56Z", &t), EINVAL);
        ASSERT_ERROR(iso8601_utc_parse("yesterday", &t), EINVAL);
        ASSERT_ERROR(iso8601_utc_parse(NULL, &t), EINVAL);
}

static void test_imds(void) {
        const char *ok =
                "{\n  \"Code\" : \"Success\",\n  \"LastUpdated\" : \"2024-05-01T11:00:00Z\",\n"
                "  \"Type\" : \"AWS-HMAC\",\n  \"AccessKeyId\" : \"ASIAIMDS\",\n"
                "  \"SecretAccessKey\" : \"imds/secret+key\",\n  \"Token\" : \"imdstoken==\",\n"
                "  \"Expiration\" : \"2024-05-01T17:00:00Z\"\n}";
        Credentials c = {};
        char *role = NULL;

        ASSERT_OK(credentials_imds_parse(ok, strlen(ok), &c));
        ASSERT_STREQ(c.access_key_id, "ASIAIMDS");
        ASSERT_STREQ(c.secret_access_key, "imds/secret+key");
        ASSERT_STREQ(c.session_token, "imdstoken==");
        ASSERT_EQ(c.expiration_usec, 1714582800ULL * 1000000ULL);
        ASSERT_EQ(c.source, CREDENTIAL_SOURCE_IMDS);
        credentials_done(&c);

        const char *failed = "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"b\"}";
        ASSERT_ERROR(credentials_imds_parse(failed, strlen(failed), &c), EBADMSG);
        const char *nosecret = "{\"Code\":\"Success\",\"AccessKeyId\":\"a\"}";
        ASSERT_ERROR(credentials_imds_parse(nosecret, strlen(nosecret), &c), EBADMSG);
        const char *badexp = "{\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"b\",\"Expiration\":\"soon\"}";
        ASSERT_ERROR(credentials_imds_parse(badexp, strlen(badexp), &c), EBADMSG);
        const char *wrongtype = "{\"AccessKeyId\":1,\"SecretAccessKey\":\"b\"}";
        ASSERT_ERROR(credentials_imds_parse(wrongtype, strlen(wrongtype), &c), EBADMSG);
        ASSERT_ERROR(credentials_imds_parse("[1,2]", 5, &c), EBADMSG);
        ASSERT_ERROR(credentials_imds_parse("{\"AccessKeyId\":", 15, &c), EBADMSG);
        ASSERT_ERROR(credentials_imds_parse("", 0, &c), EBADMSG);
        /* Without Code, Token and Expiration: long-term keys (some fixtures). */
        const char *minimal = "{\"AccessKeyId\":\"a\",\"SecretAccessKey\":\"b\"}";
        ASSERT_OK(credentials_imds_parse(minimal, strlen(minimal), &c));
        ASSERT_EQ(c.expiration_usec, 0);
        ASSERT_TRUE(c.session_token == NULL);
        credentials_done(&c);

        ASSERT_OK(imds_role_name_parse("my-role\n", 8, &role));
        ASSERT_STREQ(role, "my-role");
        free(role);
        ASSERT_OK(imds_role_name_parse("  role@x.y=z\r\nsecond\n", 21, &role));
        ASSERT_STREQ(role, "role@x.y=z");
        free(role);
        ASSERT_OK(imds_role_name_parse("last-without-newline", 20, &role));
        ASSERT_STREQ(role, "last-without-newline");
        free(role);
        ASSERT_ERROR(imds_role_name_parse("", 0, &role), EBADMSG);
        ASSERT_ERROR(imds_role_name_parse("\n", 1, &role), EBADMSG);
        ASSERT_ERROR(imds_role_name_parse("../etc", 6, &role), EBADMSG);
        ASSERT_ERROR(imds_role_name_parse("a b", 3, &role), EBADMSG);
}

static void test_expiry(void) {
        const uint64_t S = 1000000ULL, now = 1000000ULL * S;
        Credentials forever = { .access_key_id = (char *) "a", .secret_access_key = (char *) "b" };
        Credentials hour = forever, short_lived = forever, expired = forever, nearly = forever;

        hour.obtained_usec = short_lived.obtained_usec = expired.obtained_usec = nearly.obtained_usec = now;
        hour.expiration_usec = now + 3600 * S;
        short_lived.expiration_usec = now + 240 * S;
        expired.expiration_usec = now - 1;
        nearly.expiration_usec = now + 30 * S;

        ASSERT_EQ(credentials_refresh_at(&forever), UINT64_MAX);
        ASSERT_EQ(credentials_refresh_at(NULL), UINT64_MAX);
        ASSERT_TRUE(!credentials_need_refresh(&forever, UINT64_MAX - 1));
        ASSERT_TRUE(!credentials_need_refresh(NULL, now));
        /* Five minutes before expiry. */
        ASSERT_EQ(credentials_refresh_at(&hour), now + 3300 * S);
        /* Short-lived: half-way to the last moment they sign (a minute before expiry). */
        ASSERT_EQ(credentials_refresh_at(&short_lived), now + 90 * S);
        ASSERT_TRUE(credentials_refresh_at(&short_lived) < short_lived.expiration_usec - CREDENTIALS_EXPIRY_SLACK_USEC);
        ASSERT_EQ(credentials_refresh_at(&expired), now);
        ASSERT_EQ(credentials_refresh_at(&nearly), now);
        /* Unknown time of fetching: five minutes before expiry all the same. */
        Credentials unknown = hour;
        unknown.obtained_usec = 0;
        ASSERT_EQ(credentials_refresh_at(&unknown), now + 3300 * S);

        ASSERT_TRUE(credentials_usable(&forever, now));
        ASSERT_TRUE(credentials_usable(&hour, now));
        ASSERT_TRUE(credentials_usable(&short_lived, now));
        ASSERT_TRUE(!credentials_usable(&expired, now));
        ASSERT_TRUE(!credentials_usable(&nearly, now));     /* less than a minute left */
        ASSERT_TRUE(!credentials_usable(NULL, now));
        Credentials empty = {};
        ASSERT_TRUE(!credentials_usable(&empty, now));
}

/* IMDS role credentials obtained at T that expire at T+6h (the usual lifetime) are refreshed at about
 * expiry-5min, and not before, whenever the provider asks: the refresh point does not move with the
 * time of asking. */
static void test_refresh_ahead(void) {
        const uint64_t S = 1000000ULL, T = 1714566896ULL * S, expiry = T + 6 * 3600 * S;
        const uint64_t refresh = expiry - 5 * 60 * S;
        Credentials c = { .access_key_id = (char *) "ASIA", .secret_access_key = (char *) "s",
                          .session_token = (char *) "t", .source = CREDENTIAL_SOURCE_IMDS,
                          .expiration_usec = expiry, .obtained_usec = T };

        ASSERT_EQ(credentials_refresh_at(&c), refresh);

        /* Asked every 10 s for the whole lifetime, as the dispatcher does: never before the point,
         * always from the point on while they are still usable. */
        for (uint64_t t = T; t < expiry; t += 10 * S) {
                ASSERT_EQ(credentials_need_refresh(&c, t), t >= refresh);
                ASSERT_EQ(credentials_refresh_at(&c), refresh);
        }
        ASSERT_TRUE(!credentials_need_refresh(&c, T));
        ASSERT_TRUE(!credentials_need_refresh(&c, T + 3600 * S));
        ASSERT_TRUE(!credentials_need_refresh(&c, refresh - 1));
        ASSERT_TRUE(credentials_need_refresh(&c, refresh));
        ASSERT_TRUE(credentials_need_refresh(&c, refresh + 60 * S));
        /* The refresh window lies inside the time the credentials still sign: fetching new ones
         * happens while uploads go on with the current ones. */
        ASSERT_TRUE(credentials_usable(&c, refresh));
        ASSERT_TRUE(credentials_usable(&c, expiry - CREDENTIALS_EXPIRY_SLACK_USEC - 1));
        ASSERT_TRUE(!credentials_usable(&c, expiry - CREDENTIALS_EXPIRY_SLACK_USEC));

        /* The same credentials handed out again at the refresh point (IMDS rotates later): the next
         * try is half-way to their last usable moment, so they are asked for again before then. */
        c.obtained_usec = refresh;
        ASSERT_EQ(credentials_refresh_at(&c), refresh + 2 * 60 * S);
        ASSERT_TRUE(!credentials_need_refresh(&c, refresh + 2 * 60 * S - 1));
}

int main(void) {
        TEST_RUN(test_environment);
        TEST_RUN(test_file);
        TEST_RUN(test_iso8601);
        TEST_RUN(test_imds);
        TEST_RUN(test_expiry);
        TEST_RUN(test_refresh_ahead);
        return 0;
}
