/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The session-id rule of include/session-scripts/session-scripts.h ("Session ids"), stated once:
 * the daemon checks ids given to it, the PAM module checks the id the daemon answers with, the CLI
 * generates one for `run`.
 */
#pragma once

#include <stdbool.h>

#include "session-scripts/session-scripts.h"

/* True when id is a valid session id: 1…SESSION_SCRIPTS_SESSION_ID_MAX characters of
 * SESSION_SCRIPTS_SESSION_ID_CHARS, not "." or "..". False for NULL. */
bool session_id_is_valid(const char *id);

/* Writes a new random UUID (version 4, lowercase 8-4-4-4-12) into ret. Returns 0 or -errno (only
 * when the kernel has no random bytes to give, before its pool is initialised). */
int session_id_generate(char ret[static SESSION_SCRIPTS_SESSION_ID_UUID_LEN + 1]);
