#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `session-scripts validate --settings` (the built binary, $1) on settings files written to a
# temporary directory: every ignored assignment is an error with file:line (main file and drop-ins),
# trailing comments among them; no Bucket= is a warning; --json carries the findings and the upload
# target; a missing explicit PATH is exit 2. And the settings example in README.md ($2), copied
# as-is, is valid and configures uploads (it once had trailing comments that silently disabled them).
set -euo pipefail

bin=$1
readme=$2
dir=$(mktemp -d "${TMPDIR:-/tmp}/test-cli-validate-settings.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# run ARGS…: sets $out (stdout) and $rc.
run() {
        set +e
        out=$("$bin" validate "$@" 2>"$dir/stderr")
        rc=$?
        set -e
        printf '%s\n' "$out"
}
expect_line() {
        grep -qxF -- "$1" <<<"$out" || fail "expected the line '$1'"
}

# The example the README used to have: four assignments with trailing comments.
cat >"$dir/old.conf" <<'EOF'
[Session]
StackName=my-stack          # defaults for the session metadata
FleetName=my-fleet
AccessMode=custom           # userpool | federated | custom
ConfigFile=/opt/appstream/SessionScripts/config.json

[S3]
Bucket=appstream-logs-us-west-2-123456789012-abcdefg   # without Bucket= logs stay in the journal only
Region=us-west-2
#Endpoint=https://s3.example.internal                   # S3-compatible, path-style; http:// only when written here
ServerSideEncryption=yes    # x-amz-server-side-encryption: AES256
MaxSpoolSize=1G
#Profile=appstream_machine_role
EOF
mkdir "$dir/old.conf.d"
printf '[S3]\nRegion=eu-central-1\nColour=blue\n' >"$dir/old.conf.d/50-region.conf"
run --settings "$dir/old.conf"
[ "$rc" = 1 ] || fail "trailing comments: exit $rc, expected 1"
comment="has a trailing comment: '#' or ';' after a blank does not start a comment here (comments must be on a line of their own), ignoring the assignment."
expect_line "$dir/old.conf:2: error: StackName= $comment"
expect_line "$dir/old.conf:4: error: AccessMode= $comment"
expect_line "$dir/old.conf:8: error: Bucket= $comment"
expect_line "$dir/old.conf:11: error: ServerSideEncryption= $comment"
expect_line "$dir/old.conf.d/50-region.conf:3: error: Unknown key Colour= in section [S3], ignoring."
expect_line "$dir/old.conf: warning: No Bucket= in [S3]: the scripts' logs stay in the journal and nothing is uploaded to S3"
expect_line "$dir/old.conf: invalid (5 errors, 1 warning)"

run --settings --json "$dir/old.conf"
[ "$rc" = 1 ] || fail "--json: exit $rc, expected 1"
python3 - "$out" "$dir" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
assert d["valid"] is False and d["errors"] == 5 and d["warnings"] == 1, d
assert d["uploads"] == {"configured": False, "bucket": None, "region": "eu-central-1", "endpoint": None}, d["uploads"]
lines = sorted((f["file"].replace(sys.argv[2] + "/", ""), f["line"]) for f in d["findings"] if f["severity"] == "error")
assert lines == [("old.conf", 2), ("old.conf", 4), ("old.conf", 8), ("old.conf", 11), ("old.conf.d/50-region.conf", 3)], lines
PY

# The README's example, as it stands.
awk '/^## Settings/ { s = 1 } s && /^```ini/ { p = 1; next } p && /^```/ { exit } p' "$readme" >"$dir/readme.conf"
[ -s "$dir/readme.conf" ] || fail "no \`\`\`ini block under '## Settings' in $readme"
run --settings "$dir/readme.conf"
[ "$rc" = 0 ] || fail "the README's settings example is not valid (exit $rc)"
grep -q ': error: \|: warning: ' <<<"$out" && fail "the README's settings example draws findings"
grep -qE "^$dir/readme.conf: uploads to s3://[a-z0-9.-]+/ " <<<"$out" || fail "the README's settings example configures no uploads"

# A missing PATH given explicitly cannot be validated; a usage error.
run --settings "$dir/none.conf"
[ "$rc" = 2 ] || fail "missing file: exit $rc, expected 2"
grep -q "cannot read $dir/none.conf" "$dir/stderr" || fail "missing file: no reason on stderr"
run --settings --no-file-checks "$dir/old.conf"
[ "$rc" = 2 ] || fail "--settings --no-file-checks: exit $rc, expected 2"

echo "OK"
