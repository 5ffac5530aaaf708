#!/usr/bin/env python3
"""A local stand-in for a Slack incoming webhook, for the demo.

Answers every POST with Slack's own success reply (`200 ok`), prints each
message it receives, and appends the raw JSON bodies to --log so a script can
check what arrived. Stdlib only: it runs before any venv exists.
"""

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", help="write the webhook URL here once listening")
    parser.add_argument("--log", help="append each received JSON body here, one per line")
    args = parser.parse_args()

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if args.log:
                with open(args.log, "ab") as f:
                    f.write(body.replace(b"\n", b" ") + b"\n")
            try:
                text = json.loads(body).get("text", "")
            except ValueError:
                text = body.decode("utf-8", "replace")
            print(f"[slack sink] received: {text}", flush=True)
            self.send_response(200)
            self.send_header("content-type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *_):
            pass  # one line per message above is enough

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Sink)
    url = f"http://127.0.0.1:{server.server_port}/services/T000DEMO/B000DEMO/demo"
    if args.port_file:
        with open(args.port_file, "w") as f:
            f.write(url)
    print(f"[slack sink] listening on {url}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
