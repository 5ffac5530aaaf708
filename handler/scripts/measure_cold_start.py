#!/usr/bin/env python3
"""Cold-start figures for a Lambda runtime binary, without AWS.

Serves a minimal Runtime API and a Slack sink on loopback, starts the
handler under /usr/bin/time -v, and reports, per run:
  init_ms  process start -> first GET /runtime/invocation/next
  invoke_ms  event handed out -> response posted (includes the Slack POST)
  max_rss_kb  peak resident set size of the handler process

usage: measure_cold_start.py [--runs N] [--event FILE] -- COMMAND...
"""
import argparse, http.server, json, os, signal, statistics, subprocess, sys, tempfile, threading, time

class State:
    def __init__(self, event):
        self.event = event
        self.reset()
    def reset(self):
        self.first_next = None
        self.handed_out = None
        self.responded = None
        self.slack_posts = 0
        self.done = threading.Event()

def serve(state):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a): pass
        def _send(self, code, body=b"", headers=()):
            try:
                self.send_response(code)
                for k, v in headers: self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the handler was stopped while parked on its next poll
        def do_GET(self):
            if self.path.endswith("/runtime/invocation/next"):
                if state.first_next is None:
                    state.first_next = time.perf_counter()
                    state.handed_out = time.perf_counter()
                    deadline = int(time.time() * 1000) + 30_000
                    self._send(200, state.event, [
                        ("Lambda-Runtime-Aws-Request-Id", "req-1"),
                        ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                        ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-1:000000000000:function:relay"),
                        ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
                        ("Content-Type", "application/json")])
                else:
                    state.done.wait(10)   # park the second poll until we stop the process
                    self._send(503)
            else:
                self._send(404)
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if "/runtime/invocation/" in self.path or "/runtime/init/error" in self.path:
                state.responded = time.perf_counter()
                state.outcome = self.path.rsplit("/", 1)[-1]
                self._send(202)
                state.done.set()
            else:  # the Slack sink
                state.slack_posts += 1
                self._send(200, b"ok")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]

def run_once(cmd, port, state):
    state.reset()
    rss_file = tempfile.NamedTemporaryFile(delete=False)
    env = dict(os.environ,
               AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{port}",
               AWS_LAMBDA_FUNCTION_NAME="relay", AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128", AWS_LAMBDA_LOG_LEVEL="WARN",
               SLACK_WEBHOOK_URL=f"http://127.0.0.1:{port}/services/T/B/measure")
    start = time.perf_counter()
    proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", rss_file.name, *cmd], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if not state.done.wait(30):
        proc.kill(); raise SystemExit("no response within 30 s")
    # Stop the handler (the child of `time`), so `time` reports its peak RSS.
    children = open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split()
    for child in children: os.kill(int(child), signal.SIGTERM)
    proc.wait(10)
    rss = next(int(l.split(":")[1]) for l in open(rss_file.name) if "Maximum resident set size" in l)
    os.unlink(rss_file.name)
    return ((state.first_next - start) * 1000, (state.responded - state.handed_out) * 1000, rss,
            state.outcome, state.slack_posts)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--event", default=os.path.join(os.path.dirname(__file__), "../tests/fixtures/sns-alarm-seed-sample.json"))
    ap.add_argument("cmd", nargs="+")
    args = ap.parse_args()
    state = State(open(args.event, "rb").read())
    port = serve(state)
    rows = [run_once(args.cmd, port, state) for _ in range(args.runs)]
    for init, inv, rss, outcome, posts in rows:
        print(f"init_ms={init:7.2f} invoke_ms={inv:7.2f} max_rss_kb={rss} outcome={outcome} slack_posts={posts}")
    med = lambda i: statistics.median(r[i] for r in rows)
    print(json.dumps({"runs": len(rows), "init_ms_median": round(med(0), 2),
                      "invoke_ms_median": round(med(1), 2), "max_rss_kb_median": med(2)}))

if __name__ == "__main__":
    main()
