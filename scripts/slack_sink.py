#!/usr/bin/env python3
"""A local stand-in for a Slack incoming webhook, for the demo and tests.

Answers every POST the way Slack does: `200 ok`, or with --refuse NAME the
refusal Slack sends for a bad webhook (`403 invalid_token`, `404
channel_not_found`, ...). Prints each message it receives (escaped: it is
untrusted text) and appends the raw JSON bodies to --log so a script can
check what arrived. Stdlib only: it runs before any venv exists.
"""

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Slack's HTTP status for each error name a webhook can answer.
REFUSALS = {"invalid_token": 403, "action_prohibited": 403, "channel_is_archived": 410,
            "channel_not_found": 404, "no_service": 404, "invalid_payload": 400}


def printable(text):
    """Control characters shown as escapes, so a message cannot drive the terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", help="write the webhook URL here once listening")
    parser.add_argument("--log", help="append each received JSON body here, one per line")
    parser.add_argument("--refuse", choices=sorted(REFUSALS), help="answer every post with this Slack error")
    args = parser.parse_args()
    status, answer = (REFUSALS[args.refuse], args.refuse.encode()) if args.refuse else (200, b"ok")

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            if args.log:
                with open(args.log, "ab") as f:
                    f.write(body.replace(b"\n", b" ") + b"\n")
            try:
                text = json.loads(body).get("text", "")
            except (ValueError, AttributeError):
                text = body.decode("utf-8", "replace")
            verdict = "accepted" if status == 200 else f"refused ({status} {answer.decode()})"
            print(f"[slack sink] {verdict}: {printable(str(text))}", flush=True)
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_):
            pass  # one line per message above is enough

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Sink)
    url = f"http://127.0.0.1:{server.server_port}/services/T000DEMO/B000DEMO/demo"
    if args.port_file:
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w") as f:
            f.write(url)
        os.replace(tmp, args.port_file)
    # The URL is the webhook's secret part: say where we listen, not the path.
    print(f"[slack sink] listening on 127.0.0.1:{server.server_port}", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
