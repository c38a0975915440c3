"""A test kernel: ipykernel whose first kernel_info reply takes a second, as a kernel still warming
up answers (the first kernel of a fresh gateway, a cold image). Enterprise Gateway waits for that
reply before it accepts a kernel's first websocket, which widens the window in which a client's
second websocket of the same session arrives while the first is still opening.
Run by the bootstrap: slow_start_kernel.py -f {connection_file}."""

import os
import time

from ipykernel.ipkernel import IPythonKernel
from ipykernel.kernelapp import IPKernelApp

DELAY = float(os.environ.get("EJ_SLOW_FIRST_KERNEL_INFO", "1"))


class SlowStartKernel(IPythonKernel):
    answered = False

    @property
    def kernel_info(self):
        if not SlowStartKernel.answered:
            SlowStartKernel.answered = True
            time.sleep(DELAY)
        return super().kernel_info


if __name__ == "__main__":
    IPKernelApp.launch_instance(kernel_class=SlowStartKernel)
