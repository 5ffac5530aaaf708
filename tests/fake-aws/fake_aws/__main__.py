"""`python -m fake_aws --port N [--port-file PATH] [--parent-pid PID]`; see ../serve."""

import argparse
import logging
import os
import signal
import sys
import threading


def main(argv=None):
    parser = argparse.ArgumentParser(prog="serve", description="local fake AWS (moto + middleware)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port-file", help="write the server URL here once ready")
    parser.add_argument("--parent-pid", type=int,
                        help="exit when this process (our parent) is gone, so tests leave no orphans")
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    args = parser.parse_args(argv)
    started_under_parent = args.parent_pid is not None and os.getppid() == args.parent_pid

    # werkzeug logs each request at INFO; tests only want errors.
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, stream=sys.stderr)
    logging.getLogger("werkzeug").setLevel(logging.INFO if args.verbose else logging.WARNING)

    # Before anything can print `ready`: a caller may signal us right after it.
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())

    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    from .app import FakeAws

    server = make_server(args.host, args.port, FakeAws(), threaded=True, request_handler=MotoRequestHandler)
    port = server.server_port
    url = f"http://{args.host}:{port}"
    # moto builds some URLs (and calls itself) from this.
    os.environ["MOTO_PORT"] = str(port)
    threading.Thread(target=server.serve_forever, name="serve", daemon=True).start()

    if args.port_file:
        tmp = f"{args.port_file}.tmp{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(url + "\n")
        os.replace(tmp, args.port_file)
    print(f"ready {url}", flush=True)
    # The ready line is the only thing on stdout: moto print()s diagnostics, and
    # a reader that stopped draining our stdout must never block us.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    if args.parent_pid:
        threading.Thread(target=_watch_parent, args=(args.parent_pid, started_under_parent, stop), daemon=True).start()
    while not stop.wait(0.2):
        pass

    server.shutdown()
    server.server_close()
    if args.port_file:
        try:
            os.remove(args.port_file)
        except OSError:
            pass
    return 0


def _watch_parent(pid, direct, stop):
    # When `pid` is our direct parent, getppid() changes the moment it dies (we
    # are re-parented), even while it is a zombie that kill(pid, 0) still finds.
    # `direct` is decided at start-up: the parent may be gone by the time this
    # thread runs.
    while not stop.wait(0.2):
        gone = os.getppid() != pid if direct else not _alive(pid)
        if gone:
            stop.set()


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            # The state follows the parenthesised command name; Z = zombie.
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        pass
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


if __name__ == "__main__":
    sys.exit(main())
