"""Runs a function's uploaded `bootstrap` under a Lambda Runtime API we serve.

One execution environment per function configuration: the zip unpacked, the
`bootstrap` process, and a Runtime API server on its own loopback port
(`AWS_LAMBDA_RUNTIME_API`). Like Lambda, an environment is reused while the
function's code and configuration stay the same, serves one invocation at a
time, and is replaced after an update, a timeout or a crash.

Runtime API (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
GET  /2018-06-01/runtime/invocation/next      the next event, with
     Lambda-Runtime-Aws-Request-Id, -Deadline-Ms (epoch ms), -Invoked-Function-Arn, -Trace-Id
POST /2018-06-01/runtime/invocation/{id}/response
POST /2018-06-01/runtime/invocation/{id}/error
POST /2018-06-01/runtime/init/error
"""

import dataclasses
import io
import json
import os
import platform
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from . import function_logs

INIT_TIMEOUT_S = 10  # AWS: the init phase may take up to 10 s
IDLE_REAP_S = 300  # Lambda also drops environments that sit idle
# The secret key and session token of a function's role session: the call
# log marks calls signed with it as the function's (calllog.py).
ROLE_SESSION = "fake-aws-role-session"
# ELF e_machine values: what the bootstrap was built for.
ELF_MACHINES = {62: "x86_64", 183: "arm64"}
HOST_ARCH = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}.get(
    platform.machine().lower(), platform.machine())


@dataclasses.dataclass(frozen=True)
class FunctionSpec:
    """What an execution environment is built from (a snapshot of the function)."""

    account: str
    region: str
    partition: str
    name: str
    arn: str
    version: str
    handler: str
    role: str
    timeout: int
    memory: int
    architecture: str
    env: tuple  # sorted (key, value) pairs
    code_sha256: str
    code: bytes = dataclasses.field(compare=False, repr=False)

    @property
    def log_group(self):
        return f"/aws/lambda/{self.name}"

    @classmethod
    def of(cls, fn):
        """From moto's LambdaFunction."""
        return cls(
            account=fn.account_id, region=fn.region, partition=getattr(fn, "partition", "aws"),
            name=fn.function_name, arn=fn.function_arn, version="$LATEST",
            handler=fn.handler or "", role=fn.role, timeout=int(fn.timeout or 3),
            memory=int(fn.memory_size or 128), architecture=(fn.architectures or ["x86_64"])[0],
            env=tuple(sorted((fn.environment_vars or {}).items())),
            code_sha256=fn.code_sha_256 or "", code=fn.code_bytes or b"")


@dataclasses.dataclass
class Result:
    """One invocation's outcome as the Invoke API reports it."""

    request_id: str
    payload: bytes
    function_error: str | None = None  # "Unhandled" when the function failed
    error_type: str | None = None
    log_tail: bytes = b""
    logs_lost: str | None = None


class Invocation:
    def __init__(self, payload, spec):
        self.request_id = str(uuid.uuid4())
        self.payload = payload
        self.spec = spec
        self.deadline_ms = None
        self.picked_at = None
        self.picked = threading.Event()
        self.done = threading.Event()
        self.result = None  # (payload bytes, error type or None)


class RuntimeError_(Exception):
    """The function could not run: (AWS error type, message)."""

    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class Environment:
    def __init__(self, spec, code_dir, fake_url):
        self.spec = spec
        self.code_dir = code_dir
        self.fake_url = fake_url
        self.stream = function_logs.stream_name(spec.version)
        self.queue = queue.Queue()
        self.lock = threading.Lock()  # one invocation at a time
        self.current = None
        self.log = None
        self.dead = threading.Event()
        self.init_error = None
        self.last_used = time.time()
        self.cold = True
        self.proc = None
        self.server = None

    # --- life cycle -----------------------------------------------------

    def start(self):
        env_self = self

        class Handler(_RuntimeHandler):
            env = env_self

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name=f"runtime-api {self.spec.name}",
                         daemon=True).start()
        self.started = time.time()
        try:
            self.proc = subprocess.Popen(
                [os.path.join(self.code_dir, "bootstrap")], cwd=self.code_dir, env=self._environ(),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                start_new_session=True)
        except OSError as exc:
            self.stop()
            # AWS: what Lambda reports when the bootstrap cannot be executed.
            raise RuntimeError_("Runtime.InvalidEntrypoint", f"RequestId: Error: fork/exec /var/task/bootstrap: "
                                f"{exc.strerror.lower() if exc.strerror else exc}") from exc
        for pipe in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._pump, args=(pipe,), daemon=True).start()
        threading.Thread(target=self._watch, daemon=True).start()

    def stop(self):
        self.dead.set()
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def _environ(self):
        spec = self.spec
        env = dict(spec.env)
        # AWS: reserved variables Lambda sets (users cannot override them).
        env.update({
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.server.server_port}",
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": spec.version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory),
            "AWS_LAMBDA_LOG_GROUP_NAME": spec.log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_REGION": spec.region,
            "AWS_DEFAULT_REGION": spec.region,
            "_HANDLER": spec.handler,
            "LAMBDA_TASK_ROOT": self.code_dir,
            "TZ": ":UTC",
            "LANG": "en_US.UTF-8",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            # The role's session, here: the account's key id, so calls the
            # function makes land in the same fake account.
            "AWS_ACCESS_KEY_ID": spec.account,
            "AWS_SECRET_ACCESS_KEY": ROLE_SESSION,
            "AWS_SESSION_TOKEN": ROLE_SESSION,
            "AWS_ENDPOINT_URL": self.fake_url,
        })
        return env

    def _pump(self, pipe):
        for raw in iter(pipe.readline, b""):
            log = self.log
            if log is not None:
                log.line(raw.decode("utf-8", "replace"))
        pipe.close()

    def _watch(self):
        code = self.proc.wait()
        self.dead.set()
        inv = self.current
        if inv is not None and not inv.done.is_set():
            inv.result = (json.dumps({
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {inv.request_id} Error: Runtime exited with error: "
                                f"{_exit_text(code)}"}).encode(), "Runtime.ExitError")
            inv.done.set()

    # --- one invocation -------------------------------------------------

    def invoke(self, inv, on_lost):
        with self.lock:
            self.last_used = time.time()
            self.log = function_logs.open_log(self.spec, self.stream, on_lost)
            log = self.log
            if self.cold:
                log.line("INIT_START Runtime Version: provided:al2023.fake-aws\t"
                         "Runtime Version ARN: arn:aws:lambda:::runtime:fake-aws")
            self.queue.put(inv)
            if not _wait_either(inv.picked, self.dead, INIT_TIMEOUT_S if self.cold else 1.0):
                self._fail_before_start(inv)
                return self._result(inv, log)
            remaining = max(0.0, inv.deadline_ms / 1000.0 - time.time())
            if not inv.done.wait(remaining + 0.05):
                # AWS: the environment is stopped; the runtime gets no chance to answer.
                self.stop()
                message = (f"{_iso_now()} {inv.request_id} Task timed out after "
                           f"{self.spec.timeout:.2f} seconds")
                log.line(message)
                inv.result = (json.dumps({"errorMessage": message}).encode(), "Sandbox.Timedout")
            duration = (time.time() - inv.picked_at) * 1000
            log.line(f"END RequestId: {inv.request_id}")
            init = f"\tInit Duration: {(inv.picked_at - self.started) * 1000:.2f} ms" if self.cold else ""
            log.line(f"REPORT RequestId: {inv.request_id}\tDuration: {duration:.2f} ms\t"
                     f"Billed Duration: {int(duration) + 1} ms\tMemory Size: {self.spec.memory} MB\t"
                     f"Max Memory Used: {_max_rss_mb(self.proc)} MB{init}")
            self.cold = False
            self.current = None
            return self._result(inv, log)

    def _fail_before_start(self, inv):
        if self.init_error is not None:
            inv.result = (self.init_error[0], self.init_error[1] or "Runtime.InitError")
        elif self.dead.is_set():
            inv.result = (json.dumps({
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {inv.request_id} Error: Runtime exited without providing "
                                f"a reason"}).encode(), "Runtime.ExitError")
        else:
            inv.result = (json.dumps({
                "errorType": "Runtime.Unknown",
                "errorMessage": "the runtime never asked for the event (no GET .../invocation/next)"}).encode(),
                "Runtime.Unknown")
        self.stop()

    @staticmethod
    def _result(inv, log):
        payload, error_type = inv.result or (b"", "Runtime.Unknown")
        return Result(inv.request_id, payload, "Unhandled" if error_type else None, error_type,
                      log.tail(), log.lost_reason)


def _wait_either(event, dead, timeout):
    end = time.time() + timeout
    while time.time() < end:
        if event.wait(0.02):
            return True
        if dead.is_set():
            return event.is_set()
    return event.is_set()


def _exit_text(code):
    if code < 0:
        return f"signal: {signal.Signals(-code).name.lower().removeprefix('sig')}"
    return f"exit status {code}"


def _iso_now():
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


def _max_rss_mb(proc):
    try:
        with open(f"/proc/{proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return max(1, int(line.split()[1]) // 1024)
    except (OSError, ValueError, AttributeError):
        pass
    return 0


class _RuntimeHandler(BaseHTTPRequestHandler):
    env = None  # set per environment
    protocol_version = "HTTP/1.1"  # the runtime client keeps its connection

    def log_message(self, *_):
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):
            # The environment was stopped and its bootstrap killed while it
            # waited for the next event: nobody is left to read the answer.
            pass

    def do_GET(self):
        if self.path != "/2018-06-01/runtime/invocation/next":
            return self._answer(404, {"errorType": "NotFound", "errorMessage": self.path})
        env = self.env
        while True:
            try:
                inv = env.queue.get(timeout=0.2)
                break
            except queue.Empty:
                if env.dead.is_set():
                    return self._answer(500, {"errorType": "ServiceException", "errorMessage": "stopping"})
        inv.picked_at = time.time()
        inv.deadline_ms = int((inv.picked_at + env.spec.timeout) * 1000)
        env.current = inv
        env.log.line(f"START RequestId: {inv.request_id} Version: {env.spec.version}")
        inv.picked.set()
        body = inv.payload
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Lambda-Runtime-Aws-Request-Id", inv.request_id)
        self.send_header("Lambda-Runtime-Deadline-Ms", str(inv.deadline_ms))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn", env.spec.arn)
        self.send_header("Lambda-Runtime-Trace-Id",
                         f"Root=1-{int(time.time()):08x}-{uuid.uuid4().hex[:24]};Sampled=0")
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        env = self.env
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = self.path.strip("/").split("/")
        if parts[:3] == ["2018-06-01", "runtime", "init"] and parts[3:] == ["error"]:
            env.init_error = (body, self.headers.get("Lambda-Runtime-Function-Error-Type"))
            return self._answer(202, {"status": "OK"})
        if len(parts) == 5 and parts[:3] == ["2018-06-01", "runtime", "invocation"] \
                and parts[4] in ("response", "error"):
            inv = env.current
            if inv is None or inv.request_id != parts[3] or inv.done.is_set():
                return self._answer(400, {"errorType": "InvalidRequestID",
                                          "errorMessage": f"no invocation {parts[3]} in progress"})
            if parts[4] == "response":
                inv.result = (body, None)
            else:
                error_type = self.headers.get("Lambda-Runtime-Function-Error-Type")
                try:
                    error_type = json.loads(body).get("errorType") or error_type
                except (ValueError, AttributeError):
                    pass
                inv.result = (body, error_type or "Unhandled")
            inv.done.set()
            return self._answer(202, {"status": "OK"})
        return self._answer(404, {"errorType": "NotFound", "errorMessage": self.path})

    def _answer(self, status, doc):
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Runner:
    """The execution environments of every function, keyed by account, region
    and name; an environment whose FunctionSpec changed is replaced."""

    def __init__(self, fake_url):
        self.fake_url = fake_url
        self._lock = threading.Lock()
        self._envs = {}
        self._root = tempfile.mkdtemp(prefix="fake-aws-lambda-")

    def invoke(self, spec, payload, on_lost):
        """Runs one invocation of `spec` with `payload` (bytes): a Result."""
        inv = Invocation(payload, spec)
        try:
            env = self._environment(spec)
        except RuntimeError_ as exc:
            log = function_logs.open_log(spec, function_logs.stream_name(spec.version), on_lost)
            log.line(f"INIT_REPORT Init Duration: 0.00 ms\tPhase: init\tStatus: error\tError Type: {exc.error_type}")
            body = json.dumps({"errorType": exc.error_type, "errorMessage": exc.message}).encode()
            return Result(inv.request_id, body, "Unhandled", exc.error_type, log.tail(), log.lost_reason)
        result = env.invoke(inv, on_lost)
        if env.dead.is_set():
            self._drop(env)
        return result

    def _environment(self, spec):
        key = (spec.account, spec.region, spec.name)
        with self._lock:
            self._reap()
            env = self._envs.get(key)
            if env is not None and (env.spec != spec or env.dead.is_set()):
                env.stop()
                env = None
            if env is None:
                env = Environment(spec, self._unpack(spec), self.fake_url)
                env.start()
                self._envs[key] = env
            return env

    def forget(self, account, region, name):
        """Stops the function's environment (it was deleted)."""
        with self._lock:
            env = self._envs.pop((account, region, name), None)
        if env is not None:
            env.stop()

    def _drop(self, env):
        with self._lock:
            key = (env.spec.account, env.spec.region, env.spec.name)
            if self._envs.get(key) is env:
                del self._envs[key]

    def _reap(self):
        now = time.time()
        for key, env in list(self._envs.items()):
            if now - env.last_used > IDLE_REAP_S and not env.lock.locked():
                env.stop()
                del self._envs[key]

    def _unpack(self, spec):
        if spec.architecture != HOST_ARCH:
            raise RuntimeError_("Runtime.InvalidEntrypoint",
                                f"fake-aws: an {spec.architecture} function cannot run on this "
                                f"{HOST_ARCH} machine; deploy an {HOST_ARCH} package to run it here")
        target = os.path.join(self._root, spec.account, spec.name, spec.code_sha256.replace("/", "_"))
        bootstrap = os.path.join(target, "bootstrap")
        if not os.path.exists(bootstrap):
            os.makedirs(target, exist_ok=True)
            try:
                with zipfile.ZipFile(io.BytesIO(spec.code)) as z:
                    entry = z.getinfo("bootstrap")
                    with open(bootstrap, "wb") as out:
                        out.write(z.read(entry))
                    # AWS: the zip's Unix mode is kept; a bootstrap without
                    # the execute bit fails with "permission denied".
                    mode = (entry.external_attr >> 16) & 0o777
                    os.chmod(bootstrap, mode or 0o644)
            except (KeyError, zipfile.BadZipFile):
                shutil.rmtree(target, ignore_errors=True)
                raise RuntimeError_("Runtime.InvalidEntrypoint",
                                    "Couldn't find valid bootstrap(s): [/var/task/bootstrap /opt/bootstrap]")
        built_for = _elf_arch(bootstrap)
        if built_for is not None and built_for != spec.architecture:
            raise RuntimeError_("Runtime.InvalidEntrypoint",
                                f"RequestId: Error: fork/exec /var/task/bootstrap: exec format error "
                                f"(a {built_for} binary in an {spec.architecture} function)")
        return target

    def close(self):
        with self._lock:
            for env in self._envs.values():
                env.stop()
            self._envs.clear()
        shutil.rmtree(self._root, ignore_errors=True)


def _elf_arch(path):
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return None
    if len(head) < 20 or head[:4] != b"\x7fELF":
        return None
    return ELF_MACHINES.get(int.from_bytes(head[18:20], "little"), "unknown")
