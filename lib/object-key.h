/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The S3 object key of a run's log (docs/behaviour.md §4):
 *   <stack>/<fleet>/<access-mode>/<sha256-hex(user-id)>/<session-id>/SessionScriptsLogs/<event>/
 *   <context>.log   (one line)
 */
#pragma once

/* Returns 0 and a newly allocated key in *ret, -EINVAL when a component is empty or contains '/'
 * (stack, fleet, access mode, session id), -ENOMEM. */
int object_key_build(const char *stack, const char *fleet, const char *access_mode, const char *user_id,
                     const char *session_id, const char *event, const char *context, char **ret);
