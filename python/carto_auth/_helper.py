"""Talking to the carto-auth program (the credential helper).

The drop-in holds no network or token code of its own: every token comes
from `carto-auth get`, which reads a request of key=value lines on standard
input and answers with key=value lines on standard output (docs/protocol.md).
Secrets never go on the command line; the request names the credentials
file, and the helper reads it itself.

The helper's standard error (login progress, warnings) is passed on to
sys.stderr as it arrives, so it shows in a terminal and in a notebook alike.
Its final error line ("carto-auth: get: ...") becomes the message of the
CredentialsError raised here instead of being printed.

A login in paste mode reads the code from the terminal (/dev/tty).  A
notebook kernel has no terminal, so there the helper runs on a
pseudo-terminal whose prompts are shown with print() and answered with
input(), which Jupyter turns into a text box.
"""

import os
import re
import selectors
import shutil
import subprocess
import sys
import threading

from carto_auth.errors import (
    CredentialsError,
    CredentialsFileNotFoundError,
    HelperNotFoundError,
    MalformedCredentialsError,
    MissingAttributeError,
    MissingValueError,
    NetworkError,
)

HELPER_NAME = "carto-auth"
ERROR_PREFIX = "carto-auth: get: "
MESSAGE_PREFIX = "carto-auth: "
PROMPT_QUIET_SECONDS = 0.3


def _recorded_helper():
    """The helper path written into the package when it was installed.

    `cmake --install` writes carto_auth/_install.py beside the installed
    package (and into the wheel it builds), so a copy pip-installed into a
    virtual environment still finds the helper of the same install prefix.
    """
    try:
        from carto_auth import _install  # written at install time
    except ImportError:
        return None
    return getattr(_install, "HELPER", None)


def find_helper():
    """The path of the carto-auth program.

    In order: $CARTO_AUTH_BIN; <prefix>/bin/carto-auth when this package is
    installed as <prefix>/share/carto-auth/python/carto_auth; the helper
    recorded when the package was installed (see _recorded_helper); the
    bin directory of the Python environment it is installed in; carto-auth
    on PATH.
    """
    env = os.environ.get("CARTO_AUTH_BIN")
    if env:
        if not os.access(env, os.X_OK):
            raise HelperNotFoundError(
                f"CARTO_AUTH_BIN={env} is not an executable program; "
                "point it at the carto-auth program or unset it"
            )
        return env
    candidates = []
    package = os.path.dirname(os.path.realpath(__file__))
    python_dir = os.path.dirname(package)
    data_dir = os.path.dirname(python_dir)
    if (
        os.path.basename(python_dir) == "python"
        and os.path.basename(data_dir) == "carto-auth"
    ):
        prefix = os.path.dirname(os.path.dirname(data_dir))
        candidates.append(os.path.join(prefix, "bin", HELPER_NAME))
    recorded = _recorded_helper()
    if recorded:
        candidates.append(recorded)
    candidates.append(os.path.join(sys.prefix, "bin", HELPER_NAME))
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(HELPER_NAME)
    if found:
        return found
    raise HelperNotFoundError(
        "cannot find the carto-auth program: install carto-auth (see its "
        "user guide), put it on PATH, or set CARTO_AUTH_BIN to its path"
    )


def encode_request(keys):
    """The request text for a dict of keys; None values are left out."""
    lines = []
    for key, value in keys.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, os.PathLike):
            value = os.fspath(value)
        value = str(value)
        if any(c in value for c in "\r\n\0"):
            raise CredentialsError(f"{key} must not contain a line break or NUL byte")
        lines.append(f"{key}={value}\n")
    return ("".join(lines) + "\n").encode("utf-8")


# What the helper never prints in an answer (docs/protocol.md): C0 controls
# (tab included; the line feed only ends a line), DEL, C1 controls (U+0085
# included) and the Unicode line and paragraph separators.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _refuse(why):
    return CredentialsError(f"refusing the answer of carto-auth: {why}")


def decode_answer(data):
    """The key=value lines of an answer as a dict.

    The answer is split on "\n" only: str.splitlines() also splits on \v,
    \f, \x1c-\x1e, \x85, \u2028 and \u2029, which would let a value that
    holds one of them add a line of its own (an access_token=, an
    api_base_url=).  An answer that is not UTF-8, holds any other control
    character or line separator, has a line without "=", gives a key twice
    or ends in the middle of a line is refused whole (CredentialsError).
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _refuse("it is not valid UTF-8") from None
    if not text:
        return {}
    if not text.endswith("\n"):
        raise _refuse("its last line is incomplete")
    answer = {}
    for line in text[:-1].split("\n"):
        if _UNSAFE.search(line):
            raise _refuse("it holds a control character or a line separator")
        key, sep, value = line.partition("=")
        if not sep or not key:
            raise _refuse("it has a line that is not key=value")
        if key in answer:
            raise _refuse(f"it gives {key} twice")
        answer[key] = value
    return answer


# A failed get, typed (docs/protocol.md): the helper answers a request that
# announces capability[]=carto-error with error= (the kind) and
# error_reason= (the cause).  The exception follows those names, never the
# words of the message, part of which a server may have written.  A cause
# not listed here, a refusal included, is a CredentialsError as in the
# reference.
_CAPABILITY = "carto-error"
_BY_REASON = {
    "unreachable": NetworkError,
    "credentials_not_json": MalformedCredentialsError,
    "missing_attribute": MissingAttributeError,
    "missing_value": MissingValueError,
    "credentials_not_found": CredentialsFileNotFoundError,
}


def error_for(message, answer):
    """The exception for a failed get: its message and its typed answer."""
    if answer.get("capability[]") != _CAPABILITY:
        return CredentialsError(message)
    return _BY_REASON.get(answer.get("error_reason"), CredentialsError)(message)


def _has_terminal():
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


def _in_notebook():
    return "ipykernel" in sys.modules or "google.colab" in sys.modules


def needs_pseudo_terminal():
    """Whether a login prompt must go through Python instead of /dev/tty."""
    if os.name != "posix":
        return False
    return _in_notebook() or not _has_terminal()


class _StderrRelay:
    """Passes the helper's standard error on, holding back its error line."""

    def __init__(self, out):
        self._out = out
        self._partial = ""
        self.errors = []
        self.prompt_pending = False

    def _emit(self, text):
        try:
            self._out.write(text)
            self._out.flush()
        except (OSError, ValueError):
            pass

    def feed(self, data):
        text = self._partial + data.decode("utf-8", "replace")
        lines = text.split("\n")
        self._partial = lines.pop()
        for line in lines:
            if line.startswith(ERROR_PREFIX):
                self.errors.append(line[len(ERROR_PREFIX):])
            else:
                self._emit(line + "\n")
        # A partial line is shown at once (a prompt) unless it may become an
        # error line.
        partial = self._partial
        if partial and not (
            MESSAGE_PREFIX.startswith(partial) or partial.startswith(MESSAGE_PREFIX)
        ):
            self._emit(partial)
            self._partial = ""
            self.prompt_pending = True
        elif lines:
            self.prompt_pending = False

    def finish(self):
        if self._partial:
            if self._partial.startswith(ERROR_PREFIX):
                self.errors.append(self._partial[len(ERROR_PREFIX):])
            else:
                self._emit(self._partial + "\n")
            self._partial = ""


class _TerminalRelay:
    """The pseudo-terminal given to the helper when Python has none."""

    def __init__(self, out):
        import pty
        import termios

        self.master, slave = pty.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO  # the answer is shown by input() already
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self.slave_name = os.ttyname(slave)
        # Kept open until the end: with no slave open the master reports
        # EIO, which would look like the end of the output before the
        # helper has opened /dev/tty.
        self._slave = slave
        self._out = out
        self.prompt_pending = False

    def child_setup(self):
        # Runs in the child: a new session whose controlling terminal is
        # the pseudo-terminal, so that /dev/tty opens it.
        os.setsid()
        fd = os.open(self.slave_name, os.O_RDWR)
        os.close(fd)

    def feed(self, data):
        text = data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "")
        try:
            self._out.write(text)
            self._out.flush()
        except (OSError, ValueError):
            pass
        if text:
            self.prompt_pending = not text.endswith("\n")

    def answer(self):
        self.prompt_pending = False
        try:
            line = input()
        except EOFError:
            line = ""
        os.write(self.master, line.strip().encode("utf-8") + b"\n")

    def close(self):
        for fd in (self.master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self.master = self._slave = None


_lock = threading.Lock()


def run_get(keys, login=False):
    """Runs `carto-auth get` with keys; returns the answer as a dict.

    login: the request may need a login in the browser or paste mode.
    Raises CredentialsError with the helper's message on failure.
    """
    binary = find_helper()
    request = encode_request({"capability[]": _CAPABILITY, **keys})
    err_out = sys.stderr if sys.stderr is not None else open(os.devnull, "w")
    relay = _StderrRelay(err_out)
    tty = _TerminalRelay(err_out) if login and needs_pseudo_terminal() else None
    try:
        proc = subprocess.Popen(
            [binary, "get"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=True,
            preexec_fn=tty.child_setup if tty else None,
        )
    except OSError as e:
        if tty:
            tty.close()
        raise HelperNotFoundError(f"cannot run {binary}: {e.strerror}") from None
    out = bytearray()
    try:
        _exchange(proc, request, out, relay, tty)
        status = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    finally:
        relay.finish()
        if tty:
            tty.close()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream and not stream.closed:
                stream.close()
    try:
        answer = decode_answer(bytes(out))
    finally:
        # The answer holds the token: drop the raw copy.
        out[:] = bytes(len(out))
    if status != 0:
        message = relay.errors[-1] if relay.errors else (
            f"{os.path.basename(binary)} get failed with exit status {status}"
        )
        raise error_for(message, answer)
    for message in relay.errors:
        relay._emit(ERROR_PREFIX + message + "\n")
    return answer


def _exchange(proc, request, out, relay, tty):
    """Writes the request, collects stdout, relays stderr and the terminal."""
    sel = selectors.DefaultSelector()
    pending = memoryview(request)
    os.set_blocking(proc.stdin.fileno(), False)
    sel.register(proc.stdin, selectors.EVENT_WRITE, "in")
    sel.register(proc.stdout, selectors.EVENT_READ, "out")
    sel.register(proc.stderr, selectors.EVENT_READ, "err")
    if tty:
        sel.register(tty.master, selectors.EVENT_READ, "tty")
    open_outputs = 2
    try:
        while open_outputs:
            events = sel.select(PROMPT_QUIET_SECONDS)
            if not events:
                if tty and (tty.prompt_pending or relay.prompt_pending):
                    relay.prompt_pending = False
                    if proc.poll() is None:
                        tty.answer()
                continue
            for key, _ in events:
                what = key.data
                if what == "in":
                    try:
                        n = os.write(proc.stdin.fileno(), pending)
                    except BrokenPipeError:
                        n = len(pending)
                    pending = pending[n:]
                    if not pending:
                        sel.unregister(proc.stdin)
                        proc.stdin.close()
                    continue
                try:
                    data = os.read(key.fd, 65536)
                except OSError:
                    data = b""  # EIO: the terminal is gone
                if not data:
                    sel.unregister(key.fileobj)
                    if what != "tty":
                        open_outputs -= 1
                    continue
                if what == "out":
                    out += data
                elif what == "err":
                    relay.feed(data)
                else:
                    tty.feed(data)
    finally:
        sel.close()


def run_locked(keys, login=False):
    """run_get, one at a time per process (logins must not overlap)."""
    with _lock:
        return run_get(keys, login=login)
