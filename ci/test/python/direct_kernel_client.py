"""Run by the notebook venv's Python (jupyter_client 8) from test_direct_mode.py: starts the kernel
bootstrap in direct mode on a loopback "pod IP" with a key, then talks to the kernel exactly as the
provisioner's KernelManager does, with the connection info resource.connection_info() builds.

  direct_kernel_client.py NOTEBOOK_FILES_DIR BOOTSTRAP_PY POD_IP
Prints one JSON line of what it saw; exits non-zero on any failure."""

import json
import os
import subprocess
import sys
import time
import uuid

notebook_files, bootstrap, pod_ip = sys.argv[1:4]
sys.path.insert(0, notebook_files)

from jupyter_client import BlockingKernelClient  # noqa: E402
from jupyter_client.session import Session  # noqa: E402

from elastic_jupyter_direct.resource import connection_info  # noqa: E402

key = str(uuid.uuid4()).encode()
kernel_id = str(uuid.uuid4())
env = dict(os.environ, KERNEL_ID=kernel_id, KERNEL_CONNECTION_KEY=key.decode(), POD_IP=pod_ip, KERNEL_LANGUAGE="python")
env.pop("RESPONSE_ADDRESS", None)
proc = subprocess.Popen([sys.executable, bootstrap], env=env)
seen = {}
try:
    info = connection_info(pod_ip, key, "hmac-sha256", "python-remote")
    client = BlockingKernelClient()
    client.load_connection_info(info)
    client.start_channels()
    client.wait_for_ready(timeout=60)
    reply = client.execute_interactive("import os\nprint(os.environ['KERNEL_ID'])\n1+1", timeout=30, output_hook=lambda m: seen.setdefault("out", []).append(m))
    seen["status"] = reply["content"]["status"]
    seen["stdout"] = "".join(m["content"].get("text", "") for m in seen.pop("out", []) if m["msg_type"] == "stream")
    # Interrupt by message (kernel.json interrupt_mode "message"): on the control channel.
    msg_id = client.execute("import time\ntime.sleep(60)")
    time.sleep(1.0)
    session = Session(key=key)
    client.control_channel.send(session.msg("interrupt_request", {}))
    while True:
        m = client.get_shell_msg(timeout=20)
        if m["parent_header"].get("msg_id") == msg_id:
            seen["interrupted"] = m["content"].get("ename")
            break
    # A client with the wrong key is ignored (the key is the kernel's only authentication).
    wrong = BlockingKernelClient()
    wrong.load_connection_info(dict(info, key=b"not-the-key"))
    wrong.start_channels()
    wrong.kernel_info()
    try:
        wrong.get_shell_msg(timeout=3)
        seen["wrong_key_answered"] = True
    except Exception:
        seen["wrong_key_answered"] = False
    wrong.stop_channels()
    client.shutdown()
    seen["exit"] = proc.wait(timeout=30)
    client.stop_channels()
finally:
    if proc.poll() is None:
        proc.kill()
print(json.dumps(seen))
