"""Deterministic, realistic records for every collection, from a seed."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

import attrs
from voipstudio_history_client.models import (
    CallTrackingCdr,
    CallTrackingNumber,
    Cdr,
    Chat,
    Monitor,
    Msdr,
    Voicemessage,
)

from .._fields import FieldKind, dated_by, field_kinds, json_names, type_names

Record = dict[str, Any]
FieldType = FieldKind
Kind = Literal[
    "cdrs", "calltracking", "calltracking_numbers", "monitors", "msdrs", "chats", "voicemessages"
]

#: The newest record of every collection is at most this old; the data never moves.
END = datetime(2026, 10, 31, 23, 59, 59)
SPAN = timedelta(days=182)
#: MP3 at 32 kbit/s mono, so sizes grow with duration like real recordings.
MP3_BYTES_PER_SECOND = 4000
MP3_OVERHEAD = 417
#: Tracked phone numbers of the account (`/calltracking/cdrs`).
CALLTRACKING_NUMBERS = 12

_MODELS: dict[Kind, type] = {
    "cdrs": Cdr,
    "calltracking": CallTrackingCdr,
    "calltracking_numbers": CallTrackingNumber,
    "monitors": Monitor,
    "msdrs": Msdr,
    "chats": Chat,
    "voicemessages": Voicemessage,
}

FIELDS: dict[Kind, dict[str, FieldType]] = {kind: field_kinds(m) for kind, m in _MODELS.items()}
"""Every field of each collection by JSON name and kind, from the spec's generated models:
a property added to the spec is served (with a value of its kind) without an edit here."""

_ANNOTATIONS: dict[Kind, dict[str, object]] = {
    kind: {json: attrs.fields_dict(model)[attr].type for attr, json in json_names(model).items()}
    for kind, model in _MODELS.items()
}
"""Each field's generated type by JSON name, for the values of fields `_fields` calls
"object" (lists, objects, date-times)."""

DATE_FIELDS: dict[Kind, str] = {kind: dated_by(m) for kind, m in _MODELS.items()}
"""The field each collection is dated by (the spec's ``x-voipstudio-dated-by``)."""

UNDECLARED: dict[Kind, tuple[tuple[str, FieldType], ...]] = {
    "cdrs": (("hangup_side", "str"), ("recording_id", "int")),
    "calltracking": (("campaign_id", "int"), ("hangup_side", "str")),
    "calltracking_numbers": (("campaign_id", "int"), ("updated_at", "date")),
    "monitors": (("codec", "str"), ("direction", "str"), ("storage_region", "str")),
    "msdrs": (("codec", "str"), ("mos", "float")),
    "chats": (("rating", "int"), ("language", "str")),
    # Not `size`: clients read a voicemail's size as its MP3's bytes (voipstudio archive
    # checks each download against it), and this one would be a random number.
    "voicemessages": (("transcript_language", "str"), ("mailbox", "str")),
}
"""Fields the live API sends that the spec does not declare (the vendor's CLI counts about
24 on a recording, the spec 14; see openapi/notes.md §10): a few per collection, served
with seeded values so that clients' handling of unknown fields meets them. Never filter or
sort keys (the spec does not name them)."""

FIRST = ("Anna", "Ben", "Carla", "David", "Eva", "Filip", "Greta", "Hugo", "Ines", "Jan", "Kasia")
LAST = ("Smith", "Nowak", "Garcia", "Muller", "Rossi", "Dubois", "Silva", "Kowalski", "Jones")
#: Country code, national significant number length, plausible leading digits.
COUNTRIES = (("44", 10, "2"), ("1", 10, "4"), ("48", 9, "2"), ("34", 9, "9"), ("49", 10, "3"))
CODECS = ("PCMA", "PCMU", "G722", "opus")
PHONES_UA = (
    "Yealink SIP-T46U 66.86.0.15",
    "Grandstream GXP2170 1.0.11.23",
    "Zoiper rv2.10.19.4",
    "VoIPstudio Desktop 5.4.2",
    "Polycom VVX 450 6.4.3",
)
TRUNK_UA = "Level7 SBC 4.2"
DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED")
T_CAUSE = {"ANSWERED": "Normal Clearing", "NO ANSWER": "No Answer", "BUSY": "User Busy"}
LABELS = ("sales", "support", "vip", "callback", "complaint")
FOLDERS = ("INBOX", "Old", "Work", "Family", "Friends")
TRANSCRIPTS = (
    "Hi, it's {name}, please call me back about the invoice.",
    "Hello, this is {name}. I'd like to reschedule tomorrow's meeting.",
    "{name} here, the delivery is ready for pickup.",
    "Good morning, {name} calling about the support ticket.",
)
CITIES = (("London", "GB"), ("Warsaw", "PL"), ("Madrid", "ES"), ("Berlin", "DE"), ("Austin", "US"))
BROWSERS = ("Mozilla/5.0 (Windows NT 10.0) Firefox/132.0", "Mozilla/5.0 (Macintosh) Safari/18.1")


def e164(rng: random.Random) -> str:
    """A plausible E.164 number."""
    country, digits, lead = rng.choice(COUNTRIES)
    rest = "".join(rng.choice("0123456789") for _ in range(digits - 1))
    return f"+{country}{lead}{rest}"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _timestamps(rng: random.Random, n: int) -> Iterator[str]:
    """`n` ascending `YYYY-MM-DD HH:MM:SS` strings spread over SPAN, ending near END."""
    span = int(SPAN.total_seconds())
    start = END - SPAN
    for offset in sorted(rng.randrange(span) for _ in range(n)):
        yield str(start + timedelta(seconds=offset))


def later_timestamps(rng: random.Random, latest: str | None, n: int) -> Iterator[str]:
    """`n` ascending timestamps after `latest`, a few seconds to minutes apart."""
    moment = datetime.fromisoformat(latest) if latest else END
    for _ in range(n):
        moment += timedelta(seconds=rng.randrange(1, 120))
        yield str(moment)


def _plausible(rng: random.Random, field: str, kind: FieldType) -> Any:
    """A value of ``kind`` for a field the generator has no model of."""
    match kind:
        case "int":
            return rng.randrange(1, 100_000)
        case "float":
            return round(rng.uniform(0, 100), 4)
        case "bool":
            return rng.random() < 0.5
        case "code":
            return rng.choice(("A", "B", 1, 2))
        case "date":
            return (END - SPAN * rng.random()).strftime("%Y-%m-%d %H:%M:%S")
        case "list":
            return rng.sample(LABELS, rng.randrange(0, 3))
        case "str":
            return f"{field}-{rng.randrange(16**6):06x}"
    return None


_INNER: dict[str, FieldType] = {"int": "int", "float": "float", "bool": "bool", "str": "str"}


def _plausible_object(rng: random.Random, field: str, annotation: object) -> Any:
    """A value for a field `_fields` calls "object", of the shape its generated type says:
    a list of its items, an ISO date-time, or a small object."""
    parts = sorted((type_names(annotation) or frozenset()) - {"None", "Unset"})
    for part in parts:
        name = part.rsplit(".", 1)[-1]
        if part.startswith("list[") and part.endswith("]"):
            inner = _INNER.get(part[5:-1].rsplit(".", 1)[-1])
            return [_plausible(rng, field, inner) if inner else {} for _ in range(2)]
        if name == "datetime":
            return (END - SPAN * rng.random()).strftime("%Y-%m-%dT%H:%M:%S+00:00")
    return {"id": rng.randrange(1, 100_000)}


class Account:
    """The customer the data belongs to: users, their extensions and phone numbers."""

    def __init__(self, seed: int, users: int) -> None:
        rng = random.Random(f"{seed}:account")
        self.customer_id = rng.randrange(10_000, 99_999)
        first = rng.randrange(100_000, 999_000)
        self.user_ids: list[int] = [first + i for i in range(max(1, users))]
        self.names = {uid: _name(rng) for uid in self.user_ids}
        self.dids = {uid: e164(rng) for uid in self.user_ids}
        self.endpoints = {uid: 40_000 + i for i, uid in enumerate(self.user_ids)}


class Generator:
    """Builds records of every kind; the same seed gives the same records."""

    def __init__(self, seed: int, account: Account) -> None:
        self.seed = seed
        self.account = account

    def rng(self, kind: str) -> random.Random:
        """A generator of its own per kind, so sizes of one kind do not shift another."""
        return random.Random(f"{self.seed}:{kind}")

    def _user(self, rng: random.Random) -> int:
        return rng.choice(self.account.user_ids)

    def cdrs(self, rng: random.Random, first_id: int, n: int) -> list[Record]:
        """`n` call detail records with consecutive ids from `first_id`."""
        out: list[Record] = []
        acc = self.account
        for i, calldate in enumerate(_timestamps(rng, n)):
            uid = self._user(rng)
            roll = rng.random()
            call_type = "O" if roll < 0.45 else "I" if roll < 0.85 else "M"
            if call_type == "M":
                disposition = rng.choice(("NO ANSWER", "BUSY"))
            else:
                disposition = rng.choices(DISPOSITIONS, (80, 10, 6, 4))[0]
            talk = int(rng.lognormvariate(4.5, 1.1)) + 1 if disposition == "ANSWERED" else 0
            ring = rng.randrange(2, 30)
            other, other_name = e164(rng), _name(rng)
            mine, my_name = acc.dids[uid], acc.names[uid]
            outbound = call_type == "O"
            src, dst = (mine, other) if outbound else (other, mine)
            rate = round(rng.uniform(0.005, 0.15), 4) if outbound else 0.0
            live_id = 3_000_000_000 + (first_id + i) * 7
            # The reference and a third-party client type call_id as an integer, the
            # platform's ids look like UUIDs: every 8th record carries the integer form.
            call_id: str | int = _uuid(rng)
            if (first_id + i) % 8 == 0:
                call_id = int(str(call_id)[:8], 16)
            out.append(
                {
                    "id": first_id + i,
                    "billsec": talk,
                    "call_id": call_id,
                    "calldate": calldate,
                    "charge": round(rate * -(-talk // 60), 4),
                    "clid": f'"{my_name if outbound else other_name}" <{src}>',
                    "context": "EXTERNAL" if outbound else "LOCAL_USER",
                    "destination": "out" if outbound else "in",
                    "disposition": disposition,
                    "dst": dst,
                    "dst_codec": rng.choice(CODECS),
                    "dst_id": f"T{rng.randrange(1, 9)}" if outbound else f"U{uid}",
                    "dst_name": other_name if outbound else my_name,
                    "dst_ua": TRUNK_UA if outbound else rng.choice(PHONES_UA),
                    "duration": talk + ring,
                    "info": "",
                    "live_id": live_id,
                    "parent_live_id": live_id - 1 if rng.random() < 0.05 else None,
                    "rate": rate,
                    "server_id": rng.randrange(1, 5),
                    "sip_endpoint_id": acc.endpoints[uid],
                    "src": src,
                    "src_codec": rng.choice(CODECS),
                    "src_id": f"U{uid}" if outbound else f"T{rng.randrange(1, 9)}",
                    "src_name": my_name if outbound else other_name,
                    "src_ua": rng.choice(PHONES_UA) if outbound else TRUNK_UA,
                    "t_cause": T_CAUSE.get(disposition, "Call Rejected"),
                    "type": call_type,
                    "user_id": uid,
                    "labels": rng.sample(LABELS, 1) if rng.random() < 0.1 else [],
                    "metadata": "",
                    "nb_notes": rng.choice((1, 2, 3)) if rng.random() < 0.05 else 0,
                }
            )
        return out

    def calltracking(self, rng: random.Random, first_id: int, n: int) -> list[Record]:
        """`n` call tracking records: inbound calls to tracked numbers, legs of a root call."""
        out: list[Record] = []
        acc = self.account
        for i, calldate in enumerate(_timestamps(rng, n)):
            uid = self._user(rng)
            disposition = rng.choices(DISPOSITIONS, (85, 10, 3, 2))[0]
            talk = int(rng.lognormvariate(4.2, 1.0)) + 1 if disposition == "ANSWERED" else 0
            src, src_name = e164(rng), _name(rng)
            is_root = rng.random() < 0.7
            root = 4_000_000_000 + (first_id + i) * 5
            live_id = root if is_root else root + 1
            out.append(
                {
                    "id": first_id + i,
                    "billsec": talk,
                    "call_id": _uuid(rng),
                    "calldate": calldate,
                    "charge": 0.0,
                    "clid": f'"{src_name}" <{src}>',
                    "context": "LOCAL_USER",
                    "destination": "in",
                    "disposition": disposition,
                    "dst": acc.dids[uid],
                    "dst_codec": rng.choice(CODECS),
                    "dst_id": f"U{uid}",
                    "dst_name": acc.names[uid],
                    "dst_ua": rng.choice(PHONES_UA),
                    "duration": talk + rng.randrange(2, 20),
                    "info": "",
                    "live_id": live_id,
                    "parent_live_id": None if is_root else root,
                    "rate": 0.0,
                    "server_id": rng.randrange(1, 5),
                    "sip_endpoint_id": acc.endpoints[uid],
                    "src": src,
                    "src_codec": rng.choice(CODECS),
                    "src_id": f"T{rng.randrange(1, 9)}",
                    "src_name": src_name,
                    "src_ua": TRUNK_UA,
                    "t_cause": T_CAUSE.get(disposition, "Call Rejected"),
                    "type": "I",
                    "user_id": uid,
                    "is_root": is_root,
                    "root_live_id": root,
                }
            )
        return out

    def calltracking_numbers(self, rng: random.Random, first_id: int, n: int) -> list[Record]:
        """`n` tracked phone numbers, as the reference's `/calltracking/cdrs` example shows
        them: routing to a user, SMS and fax switches."""
        out: list[Record] = []
        acc = self.account
        for i, created in enumerate(_timestamps(rng, n)):
            uid = self._user(rng)
            number = e164(rng)
            sms, fax = rng.random() < 0.3, rng.random() < 0.1
            email = acc.names[uid].lower().replace(" ", ".") + "@example.com"
            out.append(
                {
                    "id": first_id + i,
                    "channels": rng.choice((2, 4, 10)),
                    "cli_hide": rng.random() < 0.1,
                    "cli_prefix": rng.randrange(1, 100),
                    "created_at": created,
                    "e164": number,
                    "esc_enabled": rng.random() < 0.2,
                    "fax_email": email if fax else None,
                    "fax_enabled": fax,
                    "flag": rng.randrange(0, 5),
                    "has_fax_password": fax and rng.random() < 0.5,
                    "info": "",
                    "name": f"Campaign {rng.choice(LABELS)} {number[-4:]}",
                    "rate": round(rng.uniform(0.5, 3.0), 2),
                    "sms_email": email if sms else None,
                    "sms_enabled": sms,
                    "status": rng.choice((1, 1, 1, 0)),
                    "target_id": uid,
                    "target_type": "user",
                    "tel_verified": rng.random() < 0.9,
                    "uri": f"sip:{number[1:]}@l7api.com",
                }
            )
        return out

    def monitors(self, rng: random.Random, first_id: int, n: int) -> list[Record]:
        """`n` recordings whose MP3 size follows from their duration."""
        out: list[Record] = []
        acc = self.account
        for i, timestamp in enumerate(_timestamps(rng, n)):
            uid = self._user(rng)
            duration = int(rng.lognormvariate(4.5, 1.0)) + 1
            inbound = rng.random() < 0.5
            other = e164(rng)
            out.append(
                {
                    "id": first_id + i,
                    "called": acc.dids[uid] if inbound else other,
                    "caller": other if inbound else acc.dids[uid],
                    "context": "LOCAL_USER" if inbound else "EXTERNAL",
                    "dst_id": f"U{uid}" if inbound else f"T{rng.randrange(1, 9)}",
                    "dst_name": acc.names[uid] if inbound else _name(rng),
                    "duration": duration,
                    "live_id": 3_500_000_000 + (first_id + i) * 3,
                    "sip_endpoint_id": acc.endpoints[uid],
                    "size": MP3_OVERHEAD + duration * MP3_BYTES_PER_SECOND,
                    "src_id": f"T{rng.randrange(1, 9)}" if inbound else f"U{uid}",
                    "timestamp": timestamp,
                    "type": "I" if inbound else "O",
                    "user_id": uid,
                }
            )
        return out

    def msdrs(self, rng: random.Random, first_id: int, n: int) -> list[Record]:
        """`n` media-session detail records."""
        out: list[Record] = []
        for i, created in enumerate(_timestamps(rng, n)):
            uid = self._user(rng)
            disposition = rng.choices(DISPOSITIONS, (85, 8, 5, 2))[0]
            out.append(
                {
                    "id": first_id + i,
                    "call_id": _uuid(rng),
                    "created_at": created,
                    "dst": e164(rng),
                    "dst_id": f"T{rng.randrange(1, 9)}",
                    "dst_ua": TRUNK_UA,
                    "duration": int(rng.lognormvariate(4.3, 1.0)),
                    "media_session_id": 7_000_000 + first_id + i,
                    "src": self.account.dids[uid],
                    "src_id": f"U{uid}",
                    "src_ua": rng.choice(PHONES_UA),
                    "t_cause": T_CAUSE.get(disposition, "Call Rejected"),
                    "type": rng.choice(("audio", "audio", "audio", "video")),
                    "user_id": uid,
                }
            )
        return out

    def chats(self, rng: random.Random, first_id: int, n: int) -> list[Record]:
        """`n` website chats."""
        out: list[Record] = []
        for i, created in enumerate(_timestamps(rng, n)):
            name = _name(rng)
            city, country = rng.choice(CITIES)
            ip = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
            out.append(
                {
                    "id": first_id + i,
                    "created_at": created,
                    "customer_id": self.account.customer_id,
                    "duration": rng.randrange(20, 1800),
                    "operator_id": self._user(rng),
                    "operator_ua": rng.choice(BROWSERS),
                    "state": rng.randrange(0, 5),
                    "visitor_city": city,
                    "visitor_country": country,
                    "visitor_email": name.lower().replace(" ", ".") + "@example.com",
                    "visitor_geo": f"{rng.uniform(-60, 60):.4f},{rng.uniform(-120, 120):.4f}",
                    "visitor_id": f"v{rng.getrandbits(48):012x}",
                    "visitor_ip": ip,
                    "visitor_name": name,
                    "visitor_referer": "https://www.example.com/pricing",
                    "visitor_ua": rng.choice(BROWSERS),
                    "website_id": rng.randrange(1, 4),
                }
            )
        return out

    def voicemessages(self, rng: random.Random, first_id: int, n: int) -> list[Record]:
        """`n` voicemail messages in folders."""
        out: list[Record] = []
        acc = self.account
        for i, origtime in enumerate(_timestamps(rng, n)):
            uid = self._user(rng)
            caller, name = e164(rng), _name(rng)
            folder = rng.choices(FOLDERS, (60, 30, 5, 3, 2))[0]
            live_id = 3_800_000_000 + (first_id + i) * 3
            out.append(
                {
                    "id": first_id + i,
                    "caller": caller,
                    "callerid": f'"{name}" <{caller}>',
                    "dialled": acc.dids[uid],
                    "duration": rng.randrange(3, 120),
                    "extension_id": acc.endpoints[uid],
                    "folder": folder,
                    "is_new": folder == "INBOX" and rng.random() < 0.6,
                    "live_id": live_id,
                    "parent_live_id": live_id - 1,
                    "origtime": origtime,
                    "transcript": rng.choice(TRANSCRIPTS).format(name=name),
                }
            )
        return out

    def _maker(self, kind: Kind) -> Callable[[random.Random, int, int], list[Record]]:
        makers: dict[Kind, Callable[[random.Random, int, int], list[Record]]] = {
            "cdrs": self.cdrs,
            "calltracking": self.calltracking,
            "calltracking_numbers": self.calltracking_numbers,
            "monitors": self.monitors,
            "msdrs": self.msdrs,
            "chats": self.chats,
            "voicemessages": self.voicemessages,
        }
        return makers[kind]

    def _complete(self, kind: Kind, rows: list[Record], stream: str) -> list[Record]:
        """Give each row every field of the spec the maker does not fill, and the
        collection's undeclared fields, a plausible value of its kind. Each field draws
        from a stream of its own, so neither the seeded data nor another added field's
        values shift when a field is added."""
        declared = [(f, k) for f, k in FIELDS[kind].items() if rows and f not in rows[0]]
        annotations = _ANNOTATIONS[kind]
        for field, field_kind in (*declared, *UNDECLARED[kind]):
            rng = self.rng(f"{stream}:field:{field}")
            for row in rows:
                if field_kind == "object":
                    row.setdefault(field, _plausible_object(rng, field, annotations.get(field)))
                else:
                    row.setdefault(field, _plausible(rng, field, field_kind))
        return rows

    def generate(self, kind: Kind, first_id: int, n: int) -> list[Record]:
        """`n` records of `kind` with ids from `first_id`."""
        return self._complete(kind, self._maker(kind)(self.rng(kind), first_id, n), kind)

    def later(self, kind: Kind, first_id: int, n: int, latest: str | None) -> list[Record]:
        """`n` new records dated after `latest`, as if the calls just happened."""
        rng = self.rng(f"{kind}:{first_id}")
        rows = self._complete(kind, self._maker(kind)(rng, first_id, n), f"{kind}:{first_id}")
        for row, moment in zip(rows, later_timestamps(rng, latest, n), strict=True):
            row[DATE_FIELDS[kind]] = moment
        return rows

    def notes(self, cdr: Record) -> list[Record]:
        """The notes of a CDR (as many as its `nb_notes`)."""
        rng = random.Random(f"{self.seed}:notes:{cdr['id']}")
        texts = ("Customer asked for a callback.", "Escalated to billing.", "Resolved.")
        return [
            {
                "id": cdr["id"] * 10 + k,
                "cdr_id": cdr["id"],
                "user_id": cdr.get("user_id"),
                "note": rng.choice(texts),
                "created_at": cdr.get("calldate"),
            }
            for k in range(1, int(cdr.get("nb_notes") or 0) + 1)
        ]


DICTIONARIES: dict[str, dict[str, dict[str, str]]] = {
    "cdrs": {
        "type": {"O": "Outbound", "I": "Inbound", "M": "Missed"},
        "disposition": {d: d.title() for d in DISPOSITIONS},
        "destination": {"in": "Inbound", "out": "Outbound"},
    },
    "msdrs": {"type": {"audio": "Audio", "video": "Video"}},
    "sms": {
        "type": {"in": "Inbound", "out": "Outbound"},
        "result": {"0": "Pending", "1": "Delivered", "2": "Failed"},
    },
    "mediasessions": {
        "type": {"audio": "Audio", "video": "Video"},
        "status": {"0": "Active", "1": "Finished"},
    },
}


def csv_escape(value: Any) -> str:
    """One CSV cell (RFC 4180 quoting)."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    text = str(value)
    if any(c in text for c in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def csv_lines(fields: Sequence[str], rows: Sequence[Record]) -> Iterator[str]:
    """Header and rows of a CSV export, CRLF-terminated."""
    yield ",".join(fields) + "\r\n"
    for row in rows:
        yield ",".join(csv_escape(row.get(f)) for f in fields) + "\r\n"
