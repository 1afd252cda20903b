"""neonize's generated protobuf classes, loaded without running neonize itself.

Importing the ``neonize`` package loads its Go library, starts a log thread, calls
``logging.basicConfig`` and puts its ``proto`` folder first on ``sys.path``. The translation code
needs only the message classes, and its tests run in the same process as the rest of the suite;
so this module imports neonize's generated ``_pb2`` modules straight from that folder, without
``neonize/__init__.py`` running. It puts the folder on ``sys.path`` only while it imports them,
under the top-level names (``Neonize_pb2``, ``waE2E.WAWebProtobufsE2E_pb2``, ...) that the
generated code itself uses for its imports of each other.

A worker that imports neonize as well loads the same ``.proto`` files a second time, under
neonize's package names. That is safe: the default descriptor pool accepts a file identical to
one it holds, and protobuf keeps one class per message type, so ``MessageEv`` here *is*
``neonize.events.MessageEv`` whichever is imported first (tests/whatsapp/test_translate.py
checks both orders in a subprocess).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any


def _proto_dir() -> Path:
    # find_spec of a top-level package only locates it; nothing of it runs.
    spec = importlib.util.find_spec("neonize")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("neonize is not installed (pip install -e engines/whatsapp)")
    return Path(next(iter(spec.submodule_search_locations))) / "proto"


def _load(*names: str) -> list[ModuleType]:
    folder = str(_proto_dir())
    sys.path.insert(0, folder)
    try:
        return [importlib.import_module(name) for name in names]
    finally:
        sys.path.remove(folder)


neonize_pb2, e2e, common = _load(
    "Neonize_pb2", "waE2E.WAWebProtobufsE2E_pb2", "waCommon.WACommon_pb2"
)

# Events (what neonize.events names MessageEv, ReceiptEv, ...) and their parts.
MessageEv: Any = neonize_pb2.Message
ReceiptEv: Any = neonize_pb2.Receipt
ChatPresenceEv: Any = neonize_pb2.ChatPresence
PresenceEv: Any = neonize_pb2.Presence
JID: Any = neonize_pb2.JID
MessageInfo: Any = neonize_pb2.MessageInfo
MessageSource: Any = neonize_pb2.MessageSource
UploadResponse: Any = neonize_pb2.UploadResponse

# Message content (waE2E) and message keys (waCommon).
Message: Any = e2e.Message
ContextInfo: Any = e2e.ContextInfo
ProtocolMessage: Any = e2e.ProtocolMessage
MessageKey: Any = common.MessageKey


def jid(user: str, server: str) -> Any:
    """A JID with every field set, as neonize's ``build_jid`` makes it: the Go side dereferences
    each of them, so a JID missing one would end the process."""
    return JID(User=user, RawAgent=0, Device=0, Integrator=0, Server=server, IsEmpty=False)
