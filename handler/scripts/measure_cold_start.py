#!/usr/bin/env python3
"""Cold-start figures for a Lambda runtime binary, without AWS.

Serves a minimal Runtime API and a Slack sink on loopback, starts the
handler under /usr/bin/time -v, and reports, per run:
  init_ms  process start -> first GET /runtime/invocation/next
  init_cpu_ms  CPU time (all threads, from /proc/PID/task/*/schedstat) the
               handler used before that first GET: its init's cost
  invoke_ms  event handed out -> response posted (includes the Slack POST)
  max_rss_kb  peak resident set size of the handler process

With --ssm the webhook is not in the environment: the handler gets
SLACK_WEBHOOK_SSM_PARAMETER and reads it at init from a GetParameter
endpoint this script serves on the same loopback port (AWS_ENDPOINT_URL_SSM),
so the difference to a run without --ssm is the SSM read's cost.

usage: measure_cold_start.py [--runs N] [--event FILE] [--ssm] -- COMMAND...
"""
import argparse, http.server, json, os, signal, statistics, subprocess, sys, tempfile, threading, time

class State:
    def __init__(self, event):
        self.event = event
        self.reset()
    def reset(self):
        self.time_pid = None
        self.init_cpu_ms = None
        self.ssm_calls = 0
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
                    state.init_cpu_ms = handler_cpu_ms(state.time_pid)
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
            if self.headers.get("X-Amz-Target") == "AmazonSSM.GetParameter":
                state.ssm_calls += 1
                name = json.loads(body)["Name"]
                port = self.server.server_address[1]
                answer = {"Parameter": {"Name": name, "Type": "SecureString", "Version": 1,
                                        "Value": f"http://127.0.0.1:{port}/services/T/B/measure"}}
                self._send(200, json.dumps(answer).encode(), [("Content-Type", "application/x-amz-json-1.1")])
            elif "/runtime/invocation/" in self.path or "/runtime/init/error" in self.path:
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

def handler_cpu_ms(time_pid):
    """On-CPU time of `time`'s child (the handler), summed over its threads."""
    try:
        child = open(f"/proc/{time_pid}/task/{time_pid}/children").read().split()[0]
        total_ns = 0
        for task in os.listdir(f"/proc/{child}/task"):
            total_ns += int(open(f"/proc/{child}/task/{task}/schedstat").read().split()[0])
        return total_ns / 1e6
    except Exception:  # never leave the handler's poll unanswered over a figure
        return float("nan")

def run_once(cmd, port, state, ssm):
    state.reset()
    rss_file = tempfile.NamedTemporaryFile(delete=False)
    env = dict(os.environ,
               AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{port}",
               AWS_LAMBDA_FUNCTION_NAME="relay", AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
               AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128", AWS_LAMBDA_LOG_LEVEL="WARN")
    env.pop("SLACK_WEBHOOK_URL", None)
    env.pop("SLACK_WEBHOOK_SSM_PARAMETER", None)
    if ssm:
        env.update(SLACK_WEBHOOK_SSM_PARAMETER="/relay/measure/slack-webhook",
                   AWS_ENDPOINT_URL_SSM=f"http://127.0.0.1:{port}",
                   AWS_REGION="eu-west-1", AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
                   AWS_SECRET_ACCESS_KEY="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                   AWS_SESSION_TOKEN="measure-session-token")
    else:
        env["SLACK_WEBHOOK_URL"] = f"http://127.0.0.1:{port}/services/T/B/measure"
    start = time.perf_counter()
    proc = subprocess.Popen(["/usr/bin/time", "-v", "-o", rss_file.name, *cmd], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    state.time_pid = proc.pid
    if not state.done.wait(30):
        proc.kill(); raise SystemExit("no response within 30 s")
    # Stop the handler (the child of `time`), so `time` reports its peak RSS.
    children = open(f"/proc/{proc.pid}/task/{proc.pid}/children").read().split()
    for child in children: os.kill(int(child), signal.SIGTERM)
    proc.wait(10)
    rss = next(int(l.split(":")[1]) for l in open(rss_file.name) if "Maximum resident set size" in l)
    os.unlink(rss_file.name)
    return ((state.first_next - start) * 1000, (state.responded - state.handed_out) * 1000, rss,
            state.outcome, state.slack_posts, state.init_cpu_ms, state.ssm_calls)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--event", default=os.path.join(os.path.dirname(__file__), "../tests/fixtures/sns-alarm-seed-sample.json"))
    ap.add_argument("--ssm", action="store_true", help="webhook from an SSM parameter read at init")
    ap.add_argument("cmd", nargs="+")
    args = ap.parse_args()
    state = State(open(args.event, "rb").read())
    port = serve(state)
    rows = [run_once(args.cmd, port, state, args.ssm) for _ in range(args.runs)]
    for init, inv, rss, outcome, posts, cpu, ssm_calls in rows:
        print(f"init_ms={init:7.2f} init_cpu_ms={cpu:6.2f} invoke_ms={inv:7.2f} max_rss_kb={rss} "
              f"outcome={outcome} slack_posts={posts} ssm_calls={ssm_calls}")
    med = lambda i: statistics.median(r[i] for r in rows)
    print(json.dumps({"runs": len(rows), "ssm": args.ssm, "init_ms_median": round(med(0), 2),
                      "init_cpu_ms_median": round(med(5), 2),
                      "invoke_ms_median": round(med(1), 2), "max_rss_kb_median": med(2)}))

if __name__ == "__main__":
    main()
