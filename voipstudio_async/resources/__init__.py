"""Resource namespaces, one module per API collection."""

from .calltracking import CallTracking
from .cdrs import Cdrs
from .chatmsgs import ChatMsgs
from .chats import Chats
from .mediasessions import MediaSessions
from .monitors import Monitors
from .msdrs import Msdrs
from .sms import Sms
from .statements import Statements
from .users import Users
from .voicemessages import Voicemessages

__all__ = [
    "CallTracking",
    "Cdrs",
    "ChatMsgs",
    "Chats",
    "MediaSessions",
    "Monitors",
    "Msdrs",
    "Sms",
    "Statements",
    "Users",
    "Voicemessages",
]
