"""Uploaded files: checked for size and type, stored outside the web root under
MEDIA_ROOT (var/files), named by content hash, read back only through permission-checked
views."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.core import signing

from cchc.errors import InvalidInput

MAX_BYTES = 20 * 1024 * 1024

# Accepted types: extension -> (content type, magic prefix checks). Office files are zip.
ACCEPTED: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        (b"PK\x03\x04",),
    ),
    ".xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        (b"PK\x03\x04",),
    ),
}


@dataclass(frozen=True)
class Upload:
    """A checked file, ready to be stored."""

    name: str
    content_type: str
    content: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)


def check(name: str, stream: IO[bytes] | bytes) -> Upload:
    """Validate size and type (by extension and content). Raises InvalidInput."""
    content = stream if isinstance(stream, bytes) else stream.read(MAX_BYTES + 1)
    clean = Path(name or "tep").name[:200]
    suffix = Path(clean).suffix.lower()
    if suffix not in ACCEPTED:
        allowed = ", ".join(sorted(ACCEPTED))
        raise InvalidInput(
            f"Tệp «{clean}» có định dạng không được chấp nhận. Chỉ nhận: {allowed}.",
            code="file.type",
        )
    if not content:
        raise InvalidInput(f"Tệp «{clean}» rỗng.", code="file.empty")
    if len(content) > MAX_BYTES:
        raise InvalidInput(
            f"Tệp «{clean}» lớn hơn {MAX_BYTES // (1024 * 1024)} MB.", code="file.too_large"
        )
    content_type, magics = ACCEPTED[suffix]
    if not any(content.startswith(m) for m in magics):
        raise InvalidInput(
            f"Nội dung tệp «{clean}» không đúng định dạng {suffix}.", code="file.content"
        )
    return Upload(clean, content_type, content, hashlib.sha256(content).hexdigest())


def store(upload: Upload) -> str:
    """Write the content (idempotent by hash) and return its path relative to MEDIA_ROOT."""
    relative = Path("dossiers") / upload.sha256[:2] / upload.sha256
    target = Path(settings.MEDIA_ROOT) / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        tmp.write_bytes(upload.content)
        tmp.replace(target)
    return str(relative)


def open_stored(relative: str) -> Path:
    root = Path(settings.MEDIA_ROOT).resolve()
    path = (root / relative).resolve()
    if root not in path.parents:
        raise InvalidInput("Đường dẫn tệp không hợp lệ.", code="file.path")
    return path


# -- pending uploads (part "counter") ----------------------------------------------------------

# A file attached to a form that was sent back with an error is kept as a pending upload: its
# content is stored at once (by hash, where the dossier will keep it), and the page carries a
# signed token naming it, bound to the officer and expiring, so the resubmission uses it and
# the officer never attaches it again.
PENDING_SALT = "cchc.dossiers.pending-upload"
PENDING_MAX_AGE = 24 * 3600  # seconds: a form left open overnight must be attached again


@dataclass(frozen=True)
class Pending:
    """A pending upload as the form shows it: the file's name and the token to send back."""

    name: str
    size: int
    token: str


def keep_pending(upload: Upload, *, user_id: int) -> Pending:
    """Store `upload` and return the token that lets `user_id` use it within
    `PENDING_MAX_AGE`."""
    store(upload)
    token = signing.dumps(
        {"u": user_id, "h": upload.sha256, "n": upload.name, "t": upload.content_type},
        salt=PENDING_SALT,
        compress=True,
    )
    return Pending(upload.name, upload.size, token)


def take_pending(token: str, *, user_id: int) -> Upload:
    """The upload a pending token names, for the user it was issued to. InvalidInput when
    the token is forged, another user's, expired or its content is gone."""
    try:
        data = signing.loads(token, salt=PENDING_SALT, max_age=PENDING_MAX_AGE)
    except signing.SignatureExpired:
        raise InvalidInput(
            "Tệp đã tải lên trước đó đã hết hạn lưu tạm (24 giờ); hãy đính kèm lại.",
            code="file.pending_expired",
        ) from None
    except signing.BadSignature:
        raise InvalidInput("Tệp tải lên tạm không hợp lệ.", code="file.pending_invalid") from None
    if data.get("u") != user_id:
        raise InvalidInput("Tệp tải lên tạm không hợp lệ.", code="file.pending_invalid")
    digest = str(data.get("h", ""))
    path = Path(settings.MEDIA_ROOT) / "dossiers" / digest[:2] / digest
    if len(digest) != 64 or not path.is_file():
        raise InvalidInput(
            f"Không còn nội dung tệp «{data.get('n', '')}» đã tải lên; hãy đính kèm lại.",
            code="file.pending_missing",
        )
    return check(str(data.get("n", "tep")), path.read_bytes())
