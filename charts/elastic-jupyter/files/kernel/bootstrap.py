#!/usr/bin/env python3
"""Kernel bootstrap: makes any image with Python and ipykernel a remote Enterprise Gateway kernel.

It runs as the kernel pod's main process and speaks the gateway's kernel-side protocol:
  1. reserve five ZMQ ports and a communication port inside PORT_RANGE,
  2. start the kernel (ipykernel by default) on those ports,
  3. send the connection info to the gateway's RESPONSE_ADDRESS: a base64 JSON document
     {"version": 1, "key": RSA(aes_key), "conn_info": AES-ECB(connection info JSON)}, the AES key
     encrypted with the gateway's PUBLIC_KEY (PKCS#1 v1.5),
  4. serve interrupt ({"signum": N}) and shutdown ({"shutdown": 1}) requests on the
     communication port until the kernel exits, then exit with the kernel's status.

Direct mode (a notebook server's kernel provisioner, no gateway): when KERNEL_CONNECTION_KEY is set
and RESPONSE_ADDRESS is not, the kernel listens on the fixed ports 52700-52704 (shell, iopub,
stdin, hb, control) of POD_IP with that key, and nothing is sent anywhere: the provisioner learns
the pod IP from the JupyterKernel's status. Each pod has its own IP, so fixed ports never collide.
Interrupts come as interrupt_request messages (kernel.json interrupt_mode "message").

Environment (each also accepted with an EG_ prefix):
  KERNEL_ID         required, the kernel's id (the gateway matches the response by it)
  RESPONSE_ADDRESS  required, "host:port" of the gateway's response listener
  PUBLIC_KEY        required, the gateway's RSA public key (base64 DER, as EG passes it)
  PORT_RANGE        optional, "lo..hi" (default "0..0": any free port)
  KERNEL_LANGUAGE   optional, default "python"; other languages need an explicit command
  POD_IP            optional, the address to bind (default: all addresses)

Usage: bootstrap.py [-- KERNEL COMMAND ... {connection_file} ...]
The default command is `<this python> -m ipykernel_launcher -f {connection_file}`.

Only the standard library is required: the encryption uses pycryptodomex, pycryptodome or
cryptography when the image has one, and a small pure-Python RSA/AES implementation otherwise
(users' images rarely ship a crypto library).
"""

from __future__ import annotations

import base64
import json
import os
import random
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid

ZMQ_PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "hb_port", "control_port")
# Direct mode's ports, in ZMQ_PORT_NAMES order; the provisioner (elastic_jupyter_direct) uses the same.
DIRECT_PORT_BASE = 52700
KERNEL_READY_TIMEOUT = float(os.environ.get("KERNEL_BOOTSTRAP_READY_TIMEOUT", "60"))
RESPONSE_CONNECT_TIMEOUT = float(os.environ.get("KERNEL_BOOTSTRAP_RESPONSE_TIMEOUT", "30"))
SHUTDOWN_GRACE = 5.0


class BootstrapError(Exception):
    """A problem the user must fix (bad settings, no free port, missing ipykernel)."""


def log(message: str) -> None:
    print(f"[elastic-jupyter bootstrap] {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- settings


def _setting(env: dict, name: str, default: str | None = None) -> str | None:
    value = env.get(name) or env.get("EG_" + name)
    return value if value else default


def parse_port_range(text: str) -> tuple[int, int]:
    """'lo..hi' -> (lo, hi); '0..0' means any port."""
    parts = text.split("..")
    try:
        if len(parts) != 2:
            raise ValueError
        lo, hi = int(parts[0]), int(parts[1])
    except ValueError:
        raise BootstrapError(f"PORT_RANGE must look like '40000..41000', got {text!r}") from None
    if (lo, hi) != (0, 0) and not (1024 <= lo <= hi <= 65535):
        raise BootstrapError(f"PORT_RANGE {text!r} must be '0..0' or lo..hi with 1024 <= lo <= hi <= 65535")
    return lo, hi


def parse_response_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise BootstrapError(f"RESPONSE_ADDRESS must be 'host:port', got {text!r}")
    return host.strip("[]"), int(port)


def direct_mode(env: dict) -> bool:
    return bool(_setting(env, "KERNEL_CONNECTION_KEY")) and not _setting(env, "RESPONSE_ADDRESS")


def _bind_ip(env: dict, why: str = "") -> str:
    """POD_IP (default: all interfaces), which must be IPv4."""
    bind_ip = _setting(env, "POD_IP", "0.0.0.0")
    try:
        socket.inet_aton(bind_ip)
    except OSError:
        raise BootstrapError(f"POD_IP must be an IPv4 address{why}, got {bind_ip!r}") from None
    return bind_ip


def direct_settings_from_env(env: dict) -> dict:
    if not _setting(env, "KERNEL_ID"):
        raise BootstrapError("missing environment variable(s): KERNEL_ID")
    return {
        "kernel_id": _setting(env, "KERNEL_ID"),
        "language": _setting(env, "KERNEL_LANGUAGE", "python").lower(),
        "key": _setting(env, "KERNEL_CONNECTION_KEY"),
        "bind_ip": _bind_ip(env),
    }


def settings_from_env(env: dict) -> dict:
    missing = [n for n in ("KERNEL_ID", "RESPONSE_ADDRESS", "PUBLIC_KEY") if not _setting(env, n)]
    if missing:
        raise BootstrapError(f"missing environment variable(s): {', '.join(missing)}")
    public_key = _setting(env, "PUBLIC_KEY")
    try:
        public_der = base64.b64decode(public_key, validate=True)
        rsa_public_numbers(public_der)
    except Exception as err:  # any decoding problem means the value is not what EG sends
        raise BootstrapError(f"PUBLIC_KEY is not a base64 DER RSA public key: {err}") from None
    bind_ip = _bind_ip(env, " (Enterprise Gateway reaches kernels over IPv4)")
    return {
        "kernel_id": _setting(env, "KERNEL_ID"),
        "language": _setting(env, "KERNEL_LANGUAGE", "python").lower(),
        "response_address": parse_response_address(_setting(env, "RESPONSE_ADDRESS")),
        "public_key_der": public_der,
        "port_range": parse_port_range(_setting(env, "PORT_RANGE", "0..0")),
        "bind_ip": bind_ip,
    }


# ---------------------------------------------------------------- ports


def reserve_sockets(bind_ip: str, port_range: tuple[int, int], count: int) -> list[socket.socket]:
    """Binds `count` TCP sockets on distinct free ports inside the range (kept bound until used)."""
    lo, hi = port_range
    sockets: list[socket.socket] = []
    candidates = [0] * count if (lo, hi) == (0, 0) else random.sample(range(lo, hi + 1), min(hi - lo + 1, 2000))
    for port in candidates:
        if len(sockets) == count:
            break
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((bind_ip, port))
        except OSError:
            sock.close()
            continue
        sockets.append(sock)
    if len(sockets) < count:
        for sock in sockets:
            sock.close()
        raise BootstrapError(f"found only {len(sockets)} of {count} free ports in PORT_RANGE {lo}..{hi} on {bind_ip}")
    return sockets


# ---------------------------------------------------------------- encryption


def _der_read(buf: bytes, pos: int) -> tuple[int, bytes, int]:
    """One DER TLV at pos -> (tag, value, position after it)."""
    tag = buf[pos]
    length = buf[pos + 1]
    pos += 2
    if length & 0x80:
        n = length & 0x7F
        length = int.from_bytes(buf[pos : pos + n], "big")
        pos += n
    if pos + length > len(buf):
        raise ValueError("truncated DER")
    return tag, buf[pos : pos + length], pos + length


def rsa_public_numbers(der: bytes) -> tuple[int, int]:
    """(n, e) from a SubjectPublicKeyInfo (what EG sends) or a bare PKCS#1 RSAPublicKey."""
    tag, body, _ = _der_read(der, 0)
    if tag != 0x30:
        raise ValueError("not a DER sequence")
    first_tag, first, after = _der_read(body, 0)
    if first_tag == 0x30:  # SubjectPublicKeyInfo: algorithm, then BIT STRING holding RSAPublicKey
        bit_tag, bits, _ = _der_read(body, after)
        if bit_tag != 0x03 or bits[0] != 0:
            raise ValueError("unexpected public key encoding")
        tag, body, _ = _der_read(bits[1:], 0)
        first_tag, first, after = _der_read(body, 0)
    e_tag, e, _ = _der_read(body, after)
    if first_tag != 0x02 or e_tag != 0x02:
        raise ValueError("RSA modulus/exponent missing")
    return int.from_bytes(first, "big"), int.from_bytes(e, "big")


def rsa_pkcs1v15_encrypt_pure(public_der: bytes, message: bytes) -> bytes:
    n, e = rsa_public_numbers(public_der)
    k = (n.bit_length() + 7) // 8
    if len(message) > k - 11:
        raise ValueError("message too long for the RSA key")
    padding = bytearray()
    while len(padding) < k - 3 - len(message):  # PKCS#1 v1.5 padding bytes must be non-zero
        padding += bytes(b for b in secrets.token_bytes(k) if b)
    block = b"\x00\x02" + bytes(padding[: k - 3 - len(message)]) + b"\x00" + message
    return pow(int.from_bytes(block, "big"), e, n).to_bytes(k, "big")


def _aes_sbox() -> list[int]:
    def mul(a: int, b: int) -> int:  # multiplication in GF(2^8) mod x^8+x^4+x^3+x+1
        result = 0
        while b:
            if b & 1:
                result ^= a
            a = ((a << 1) ^ 0x11B) if a & 0x80 else (a << 1)
            b >>= 1
        return result

    inverse = [0] * 256
    for a in range(1, 256):
        for b in range(1, 256):
            if mul(a, b) == 1:
                inverse[a] = b
                break
    sbox = []
    for a in range(256):
        x = inverse[a]
        rotl = lambda v, s: ((v << s) | (v >> (8 - s))) & 0xFF  # noqa: E731
        sbox.append(x ^ rotl(x, 1) ^ rotl(x, 2) ^ rotl(x, 3) ^ rotl(x, 4) ^ 0x63)
    return sbox


_SBOX: list[int] = []


def _xtime(a: int) -> int:
    return ((a << 1) ^ 0x1B) & 0xFF if a & 0x80 else a << 1


def _aes128_round_keys(key: bytes) -> list[list[int]]:
    words = [list(key[i : i + 4]) for i in range(0, 16, 4)]
    rcon = 1
    for i in range(4, 44):
        word = list(words[i - 1])
        if i % 4 == 0:
            word = [_SBOX[b] for b in word[1:] + word[:1]]
            word[0] ^= rcon
            rcon = _xtime(rcon)
        words.append([a ^ b for a, b in zip(words[i - 4], word)])
    return [sum(words[r * 4 : r * 4 + 4], []) for r in range(11)]


def aes128_ecb_encrypt_pure(key: bytes, data: bytes) -> bytes:
    """AES-128 in ECB mode (what EG decrypts with) over already padded data (FIPS-197)."""
    if not _SBOX:
        _SBOX.extend(_aes_sbox())
    if len(key) != 16 or len(data) % 16:
        raise ValueError("AES-128 needs a 16-byte key and whole 16-byte blocks")
    round_keys = _aes128_round_keys(key)
    out = bytearray()
    for offset in range(0, len(data), 16):
        s = [b ^ k for b, k in zip(data[offset : offset + 16], round_keys[0])]  # s[row + 4*col]
        for rnd in range(1, 11):
            s = [_SBOX[b] for b in s]
            s = [s[(i + 4 * (i % 4)) % 16] for i in range(16)]  # ShiftRows: row r rotates left by r
            if rnd < 10:
                mixed = []
                for c in range(0, 16, 4):
                    a0, a1, a2, a3 = s[c : c + 4]
                    t = a0 ^ a1 ^ a2 ^ a3
                    mixed += [a0 ^ t ^ _xtime(a0 ^ a1), a1 ^ t ^ _xtime(a1 ^ a2),
                              a2 ^ t ^ _xtime(a2 ^ a3), a3 ^ t ^ _xtime(a3 ^ a0)]
                s = mixed
            s = [b ^ k for b, k in zip(s, round_keys[rnd])]
        out += bytes(s)
    return bytes(out)


def crypto_backend() -> str:
    """Which implementation encrypts: a library when the image has one, else pure Python."""
    forced = os.environ.get("KERNEL_BOOTSTRAP_CRYPTO")
    if forced:
        return forced
    for module, name in (("Cryptodome", "pycryptodomex"), ("Crypto.PublicKey.RSA", "pycryptodome"),
                         ("cryptography.hazmat.primitives.ciphers", "cryptography")):
        try:
            imported = __import__(module, fromlist=["_"])
        except ImportError:
            continue
        if name == "pycryptodome" and not hasattr(imported, "import_key"):
            continue  # the old, unmaintained PyCrypto shares the package name
        return name
    return "pure-python"


def _encrypt(backend: str, public_der: bytes, aes_key: bytes, plaintext: bytes) -> tuple[bytes, bytes]:
    """(RSA-encrypted AES key, AES-ECB-encrypted PKCS#7-padded plaintext)."""
    pad = 16 - len(plaintext) % 16
    padded = plaintext + bytes([pad]) * pad
    if backend in ("pycryptodomex", "pycryptodome"):
        if backend == "pycryptodomex":
            from Cryptodome.Cipher import AES, PKCS1_v1_5
            from Cryptodome.PublicKey import RSA
        else:
            from Crypto.Cipher import AES, PKCS1_v1_5
            from Crypto.PublicKey import RSA
        key = PKCS1_v1_5.new(RSA.import_key(public_der)).encrypt(aes_key)
        return key, AES.new(aes_key, AES.MODE_ECB).encrypt(padded)
    if backend == "cryptography":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

        key = serialization.load_der_public_key(public_der).encrypt(aes_key, padding.PKCS1v15())
        encryptor = Cipher(algorithms.AES(aes_key), modes.ECB()).encryptor()
        return key, encryptor.update(padded) + encryptor.finalize()
    if backend == "pure-python":
        return rsa_pkcs1v15_encrypt_pure(public_der, aes_key), aes128_ecb_encrypt_pure(aes_key, padded)
    raise BootstrapError(f"unknown KERNEL_BOOTSTRAP_CRYPTO {backend!r}")


def encrypted_payload(connection_info: dict, public_der: bytes, backend: str | None = None) -> bytes:
    """The bytes the gateway's response listener expects (payload version 1)."""
    aes_key = secrets.token_bytes(16)
    key, conn = _encrypt(backend or crypto_backend(), public_der, aes_key, json.dumps(connection_info).encode())
    document = {"version": 1, "key": base64.b64encode(key).decode(), "conn_info": base64.b64encode(conn).decode()}
    return base64.b64encode(json.dumps(document).encode())


# ---------------------------------------------------------------- kernel process


def kernel_command(language: str, extra: list[str], connection_file: str) -> list[str]:
    if extra:
        return [arg.replace("{connection_file}", connection_file) for arg in extra]
    if language != "python":
        raise BootstrapError(f"KERNEL_LANGUAGE {language!r} needs a kernel command after '--'")
    import importlib.util

    if importlib.util.find_spec("ipykernel") is None:
        raise BootstrapError(f"ipykernel is not installed for {sys.executable}; the kernel image needs it")
    return [sys.executable, "-m", "ipykernel_launcher", "-f", connection_file]


def wait_for_ports(process: subprocess.Popen, ip: str, ports: list[int], timeout: float) -> None:
    """Returns once the kernel accepts TCP connections on every port; fails if it exits first."""
    probe_ip = "127.0.0.1" if ip == "0.0.0.0" else ip
    deadline = time.monotonic() + timeout
    pending = list(ports)
    while pending:
        if process.poll() is not None:
            raise BootstrapError(f"the kernel exited with status {process.returncode} before it was ready")
        if time.monotonic() > deadline:
            raise BootstrapError(f"the kernel did not listen on ports {pending} within {timeout:.0f} s")
        try:
            with socket.create_connection((probe_ip, pending[0]), timeout=0.5):
                pending.pop(0)
        except OSError:
            time.sleep(0.05)


def send_response(address: tuple[str, int], payload: bytes, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(address, timeout=5) as sock:
                sock.sendall(payload)
                sock.shutdown(socket.SHUT_WR)  # EOF tells the gateway the payload is complete
            return
        except OSError as err:
            if time.monotonic() > deadline:
                raise BootstrapError(f"cannot reach the gateway at {address[0]}:{address[1]}: {err}") from None
            time.sleep(0.5)


def stop_kernel(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(SHUTDOWN_GRACE)
        except subprocess.TimeoutExpired:
            process.kill()


def read_request(conn: socket.socket) -> dict | None:
    """One JSON request per connection; the gateway closes (or half-closes) after sending it."""
    conn.settimeout(5)
    data = b""
    try:
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
            try:
                return json.loads(data)
            except ValueError:
                continue  # not complete yet
    except OSError:
        pass
    try:
        return json.loads(data) if data else None
    except ValueError:
        log(f"ignoring malformed request {data[:200]!r}")
        return None


class KernelSupervisor:
    """The kernel child process and what the gateway (or the kubelet) asked of it."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.shutdown_requested = False

    def signal(self, signum: int) -> None:
        if self.process.poll() is None:
            log(f"sending signal {signum} to the kernel")
            self.process.send_signal(signum)

    def shutdown(self) -> None:
        self.shutdown_requested = True
        stop_kernel(self.process)

    def exit_status(self) -> int:
        code = self.process.wait()
        if self.shutdown_requested:
            return 0  # a requested shutdown is a success, whatever signal ended the kernel
        return code if code >= 0 else 128 - code

    def reap_orphans(self) -> None:
        """As PID 1 (a container without an init) we inherit the kernel's orphans, e.g. the
        processes of `!cmd &`; collect them so they do not stay zombies. The kernel itself is left
        to Popen, so its exit status is not lost."""
        while True:
            try:
                child = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if child is None or child.si_pid == self.process.pid:
                return
            os.waitpid(child.si_pid, os.WNOHANG)

    def serve(self, comm_socket: socket.socket) -> None:
        """Handles gateway requests on the (listening) communication port until the kernel exits."""
        is_init = os.getpid() == 1
        while self.process.poll() is None:
            if is_init:
                self.reap_orphans()
            readable, _, _ = select.select([comm_socket], [], [], 0.2)
            if not readable:
                continue
            conn, _ = comm_socket.accept()
            with conn:
                request = read_request(conn)
            if not isinstance(request, dict):
                continue
            signum = request.get("signum")
            if isinstance(signum, int) and signum > 0:  # 0 is a liveness probe: answering is enough
                self.signal(signum)
            if request.get("shutdown"):
                log("shutdown requested by the gateway")
                self.shutdown()


def run_direct(env: dict, extra_command: list[str]) -> int:
    """Direct mode: fixed ports, the provisioner's key, no callback; supervise until the kernel exits."""
    settings = direct_settings_from_env(env)
    kernel_id, bind_ip = settings["kernel_id"], settings["bind_ip"]
    runtime_dir = tempfile.mkdtemp(prefix="elastic-jupyter-")
    connection_file = os.path.join(runtime_dir, f"kernel-{kernel_id}.json")
    try:
        command = kernel_command(settings["language"], extra_command, connection_file)
    except BaseException:
        shutil.rmtree(runtime_dir, ignore_errors=True)
        raise
    ports = [DIRECT_PORT_BASE + i for i in range(len(ZMQ_PORT_NAMES))]
    info = dict(zip(ZMQ_PORT_NAMES, ports))
    info.update(ip=bind_ip, transport="tcp", signature_scheme="hmac-sha256", key=settings["key"], kernel_name="")
    with open(os.open(connection_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        json.dump(info, f)
    kernel = KernelSupervisor(subprocess.Popen(command))
    signal.signal(signal.SIGTERM, lambda *_: kernel.shutdown())
    signal.signal(signal.SIGINT, lambda *_: kernel.signal(signal.SIGINT))
    try:
        wait_for_ports(kernel.process, bind_ip, ports, KERNEL_READY_TIMEOUT)
        log(f"kernel {kernel_id} ready (direct mode): ports {ports} on {bind_ip}")
        is_init = os.getpid() == 1
        while kernel.process.poll() is None:
            if is_init:
                kernel.reap_orphans()
            time.sleep(0.2)
    except BaseException:
        stop_kernel(kernel.process)
        raise
    finally:
        shutil.rmtree(runtime_dir, ignore_errors=True)
    code = kernel.exit_status()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    log(f"kernel {kernel_id} exited; bootstrap exit status {code}")
    return code


def run(env: dict, extra_command: list[str]) -> int:
    if direct_mode(env):
        return run_direct(env, extra_command)
    settings = settings_from_env(env)
    kernel_id = settings["kernel_id"]
    bind_ip = settings["bind_ip"]
    runtime_dir = tempfile.mkdtemp(prefix="elastic-jupyter-")
    connection_file = os.path.join(runtime_dir, f"kernel-{kernel_id}.json")
    try:
        command = kernel_command(settings["language"], extra_command, connection_file)
        sockets = reserve_sockets(bind_ip, settings["port_range"], len(ZMQ_PORT_NAMES) + 1)
    except BaseException:
        shutil.rmtree(runtime_dir, ignore_errors=True)
        raise
    comm_socket, zmq_sockets = sockets[-1], sockets[:-1]
    ports = [s.getsockname()[1] for s in zmq_sockets]
    info = dict(zip(ZMQ_PORT_NAMES, ports))
    info.update(ip=bind_ip, transport="tcp", signature_scheme="hmac-sha256", key=str(uuid.uuid4()), kernel_name="")
    with open(os.open(connection_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        json.dump(info, f)

    for sock in zmq_sockets:  # free the reserved ports just before the kernel binds them
        sock.close()
    # No JPY_PARENT_PID for the kernel: ipykernel 6's parent poller exits when its parent is PID 1,
    # which this bootstrap is in a container.
    kernel = KernelSupervisor(subprocess.Popen(command))
    # As the pod's main process, pass on what the kubelet sends: TERM stops, INT interrupts.
    signal.signal(signal.SIGTERM, lambda *_: kernel.shutdown())
    signal.signal(signal.SIGINT, lambda *_: kernel.signal(signal.SIGINT))
    try:
        wait_for_ports(kernel.process, bind_ip, ports, KERNEL_READY_TIMEOUT)
        comm_port = comm_socket.getsockname()[1]
        response = dict(info, kernel_id=kernel_id, comm_port=comm_port, pid=kernel.process.pid,
                        pgid=os.getpgid(kernel.process.pid))
        backend = crypto_backend()
        payload = encrypted_payload(response, settings["public_key_der"], backend)
        # Listen before the gateway learns the port: it may send a request at once, and it ignores a
        # refused connection, so a request sent before listen() would be lost without a trace.
        comm_socket.listen(16)
        send_response(settings["response_address"], payload, RESPONSE_CONNECT_TIMEOUT)
        host, port = settings["response_address"]
        log(f"kernel {kernel_id} ready: ports {ports}, comm port {comm_port}, bound to {bind_ip}; "
            f"connection info sent to {host}:{port} ({backend})")
        kernel.serve(comm_socket)
    except BaseException:
        stop_kernel(kernel.process)
        raise
    finally:
        comm_socket.close()
        shutil.rmtree(runtime_dir, ignore_errors=True)
    code = kernel.exit_status()
    # The kernel is gone: a SIGTERM now (the pod being deleted) must not turn a clean exit into a
    # kill by signal while the interpreter shuts down (which restores default handlers, not SIG_IGN).
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    log(f"kernel {kernel_id} exited; bootstrap exit status {code}")
    return code


def main(argv: list[str]) -> int:
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    unknown = argv[: argv.index("--")] if "--" in argv else argv
    if unknown:
        log(f"unexpected arguments {unknown}; usage: bootstrap.py [-- KERNEL COMMAND ...]")
        return 2
    try:
        return run(dict(os.environ), extra)
    except BootstrapError as err:
        log(f"error: {err}")
        write_termination_message(str(err))
        return 1


def write_termination_message(message: str) -> None:
    """The kubelet reports this file's content as the container's termination message, so the
    controller (and through the gateway, the user) can say why the kernel did not start. The
    kubelet creates the file; outside a pod there is none and nothing is written."""
    path = os.environ.get("KERNEL_BOOTSTRAP_TERMINATION_LOG", "/dev/termination-log")
    if os.path.isfile(path):
        try:
            with open(path, "w") as f:
                f.write(message[:4096])
        except OSError:
            pass


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
