"""``python -m caselib.site.ready PORT [--host ADDR] [--timeout S]``: wait until a
serving process answers its home page (exit 0), or give up after ``--timeout``
seconds (exit 1, saying so).

The serving unit runs it as ``ExecStartPost``, so ``systemctl restart
caselib@8101`` returns only once that process serves again, and a rolling
restart of one process after the other never leaves nginx with neither.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request

POLL_SECONDS = 0.2


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def wait_until_ready(url: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(url):
            return True
        time.sleep(POLL_SECONDS)
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m caselib.site.ready", description="等待案例库服务进程可以应答 (wait until a serving process answers).")
    parser.add_argument("port", type=int, help="端口 (the process's port)")
    parser.add_argument("--host", default="127.0.0.1", help="地址 (default 127.0.0.1)")
    parser.add_argument("--timeout", type=float, default=90, help="最多等待秒数 (seconds to wait at most, default 90)")
    args = parser.parse_args(argv)
    url = f"http://{args.host}:{args.port}/"
    if wait_until_ready(url, args.timeout):
        return 0
    print(f"{url} 在 {args.timeout:g} 秒内没有应答 (did not answer within {args.timeout:g} s)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
