"""The generated models the facade returns, re-exported for annotations.

``from voipstudio_async.types import Cdr`` is the supported import; the generated
package's layout is an implementation detail.
"""

from voipstudio_history_client.models import (
    CallTrackingCdr,
    CallTrackingNumber,
    Cdr,
    CdrDictionary,
    CdrNote,
    CdrPatch,
    Chat,
    FieldError,
    MediaSessionDictionary,
    Monitor,
    Msdr,
    MsdrDictionary,
    SmsDictionary,
    Voicemessage,
    VoicemessagePatch,
)
from voipstudio_history_client.types import UNSET, Unset

__all__ = [
    "UNSET",
    "CallTrackingCdr",
    "CallTrackingNumber",
    "Cdr",
    "CdrDictionary",
    "CdrNote",
    "CdrPatch",
    "Chat",
    "FieldError",
    "MediaSessionDictionary",
    "Monitor",
    "Msdr",
    "MsdrDictionary",
    "SmsDictionary",
    "Unset",
    "Voicemessage",
    "VoicemessagePatch",
]
