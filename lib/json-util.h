/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * _cleanup_ helpers for json-c objects (cleanup.h deliberately does not include json-c).
 */
#pragma once

#include <json-c/json.h>

#include "cleanup.h"

/* json_object_put() accepts NULL. */
static inline void json_object_putp(struct json_object **j) {
        json_object_put(*j);
}

DEFINE_POINTER_CLEANUP_FUNC(struct json_tokener *, json_tokener_free, json_tokener_freep);
