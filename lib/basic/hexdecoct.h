/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hexadecimal digits (libc only; lib/basic/ is dependency-free).
 */
#pragma once

/* The value (0…15) of the hexadecimal digit c, either case; -EINVAL when c is none. */
int unhexchar(char c);
