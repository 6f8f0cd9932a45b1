#!/usr/bin/env python3
"""An IMDS stand-in built on Python's standard http.server, for `make bench` only.

It serves a bench/gen-scenario.sh scenario (the "mac" and "macs" objects) the way eniroute reads
it: PUT /latest/api/token gives a token, GET /latest/meta-data/... answers a value or a directory
listing (sorted, sub-directories with a trailing "/", lines joined with "\\n"), anything else 404.
It is here because it is *not* the project's simulator: BaseHTTPRequestHandler writes the header
block and the body in two send() calls with Nagle's algorithm on, the pattern that once stalled
eniroute's keep-alive connection (issue 12). HTTP/1.1 keep-alive, one thread per connection.

Usage: imds-http-server.py SCENARIO.json ADDR PORT READY-FILE
"""
import json
import os
import secrets
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def build_tree(scenario):
    """The metadata tree under /latest/meta-data/ as nested dicts; leaves are body strings."""
    macs = {}
    for mac, keys in scenario["macs"].items():
        entry = {"mac": mac}
        for key, value in keys.items():
            entry[key] = "\n".join(value) if isinstance(value, list) else str(value)
        macs[mac] = entry
    return {"mac": scenario["mac"], "network": {"interfaces": {"macs": macs}}}


def lookup(tree, parts):
    node = tree
    for part in parts:
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, dict):
        return "\n".join(sorted(k + "/" if isinstance(v, dict) else k for k, v in node.items()))
    return node


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    tree = {}
    tokens = set()

    def reply(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()  # the header block: one write
        self.wfile.write(data)  # the body: a second write

    def do_PUT(self):
        if self.path != "/latest/api/token" or not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reply(400, "bad token request\n")
        token = secrets.token_urlsafe(42)
        Handler.tokens.add(token)
        self.reply(200, token)

    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") not in Handler.tokens:
            return self.reply(401, "IMDSv2 token required\n")
        path = self.path.split("?", 1)[0]
        prefix = "/latest/meta-data"
        if not path.startswith(prefix):
            return self.reply(404, "Not Found\n")
        body = lookup(Handler.tree, [p for p in path[len(prefix):].split("/") if p])
        if body is None:
            return self.reply(404, "Not Found\n")
        self.reply(200, body)

    def log_message(self, *args):
        pass


def main():
    scenario_path, address, port, ready = sys.argv[1:5]
    with open(scenario_path) as f:
        Handler.tree = build_tree(json.load(f))
    server = ThreadingHTTPServer((address, int(port)), Handler)
    with open(ready + ".tmp", "w") as f:
        f.write("%s:%d\n" % server.server_address[:2])
    os.rename(ready + ".tmp", ready)
    server.serve_forever()


if __name__ == "__main__":
    main()
