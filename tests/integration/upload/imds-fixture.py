#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A small stand-in for the EC2 instance metadata service, IMDSv2 only, for the uploader's tests:
#   PUT /latest/api/token                          needs X-aws-ec2-metadata-token-ttl-seconds (1…21600),
#                                                  answers a fresh token
#   GET /latest/meta-data/iam/security-credentials/        the role name (needs a valid token)
#   GET /latest/meta-data/iam/security-credentials/ROLE    JSON credentials (needs a valid token)
# Requests without a valid token get 401, as IMDSv2 answers them. The credentials served come from a
# JSON file re-read per request ({"AccessKeyId", "SecretAccessKey", "Token", "LifetimeSeconds"}), so a
# test can rotate them. Every request is appended to LOG (one line: method path token-ok) for asserts.
#
# The fixture exits by itself once the process that started it (the test) is gone.
#
# usage: imds-fixture.py PORT ROLE CREDENTIALS_JSON LOG
import datetime
import http.server
import json
import os
import secrets
import sys
import threading
import time

PORT, ROLE, CREDS, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
tokens = set()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", content_type="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def note(self, ok):
        with open(LOG, "a") as f:
            f.write(f"{self.command} {self.path} {'token-ok' if ok else 'no-token'}\n")

    def do_PUT(self):
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        self.note(False)
        if self.path != "/latest/api/token":
            return self.reply(404)
        if not ttl or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
            return self.reply(400)
        token = secrets.token_urlsafe(32)
        tokens.add(token)
        self.reply(200, token.encode())

    def do_GET(self):
        ok = self.headers.get("X-aws-ec2-metadata-token") in tokens
        self.note(ok)
        if not ok:
            return self.reply(401)
        base = "/latest/meta-data/iam/security-credentials/"
        if self.path == base:
            return self.reply(200, (ROLE + "\n").encode())
        if self.path == base + ROLE:
            with open(CREDS) as f:
                c = json.load(f)
            now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
            doc = {
                "Code": "Success",
                "LastUpdated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Type": "AWS-HMAC",
                "AccessKeyId": c["AccessKeyId"],
                "SecretAccessKey": c["SecretAccessKey"],
                "Token": c.get("Token", ""),
                "Expiration": (now + datetime.timedelta(seconds=int(c.get("LifetimeSeconds", 21600))))
                .strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
            return self.reply(200, json.dumps(doc, indent=2).encode(), "application/json")
        self.reply(404)


def watch_parent(parent):
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(0)


threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
