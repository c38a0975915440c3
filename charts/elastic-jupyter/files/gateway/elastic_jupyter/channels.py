"""Enterprise Gateway's kernel websocket handler with two fixes for a session that has two
connections at once, which is what JupyterLab makes: it opens a new kernel's websocket twice in
a row with one session id, and the notebook server opens a connection to the gateway for each.

jupyter_server 1.x (which EG 3.3 pins) assumes one connection per session:
- it replaces an older connection of the session by closing it and waiting until it has closed;
  but one still opening (waiting for the kernel's first kernel_info reply) has no websocket yet,
  so closing it does nothing, and the newer one waits until the client closes the older one;
- every connection of a session uses the session id as its ZMQ identity, and the kernel's ROUTER
  sockets route replies by identity to the first peer that used it: the newer connection's
  replies go to the older one.
Either way the messages a user sends on the newer connection get no reply (the stall users saw:
no reply of any kind, until the page is reloaded). Here the newer connection never waits for an
older one that is still opening, and each connection has an identity of its own.
"""

from __future__ import annotations

import uuid

from enterprise_gateway.services.kernels import handlers


class ChannelsHandler(handlers.ZMQChannelsHandler):
    async def _register_session(self):
        self.session_key = f"{self.kernel_id}:{self.session.session}"
        older = self._open_sessions.get(self.session_key)
        if older is not None and older is not self and older.ws_connection is None:
            # It cannot close before it has opened: both stay, each with its own client websocket.
            self.log.info("Session %s: an older connection is still opening; not waiting for it", self.session_key)
            if self.kernel_id in self.kernel_manager:
                self._open_sessions[self.session_key] = self
            return
        await super()._register_session()

    def create_stream(self):
        # The same four channels as jupyter_server's, under an identity of this connection's own.
        identity = f"{self.session.session}-{uuid.uuid4().hex[:12]}".encode()
        for channel in ("iopub", "shell", "control", "stdin"):
            stream = getattr(self.kernel_manager, f"connect_{channel}")(self.kernel_id, identity=identity)
            stream.channel = channel
            self.channels[channel] = stream


def install() -> None:
    """Serves kernel websockets with ChannelsHandler: EG builds its handler list when imported and
    reads it when the web app starts, after the config files ran."""
    for i, (path, cls) in enumerate(handlers.default_handlers):
        if cls is handlers.ZMQChannelsHandler:
            handlers.default_handlers[i] = (path, ChannelsHandler)
