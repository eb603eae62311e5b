#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs scdoc ($1) as a filter (stdin to stdout) and puts the line '\" t first: it tells man(1) and
# lintian to run tbl over the page, which scdoc's tables need (groff 1.23, Debian 13, otherwise
# warns "tbl preprocessor failed, or it or soelim was not run" for every table).
printf '%s\n' "'\\\" t"
exec "$1"
