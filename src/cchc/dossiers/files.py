"""Uploaded files: checked for size and type, stored outside the web root under
MEDIA_ROOT (var/files), named by content hash, read back only through permission-checked
views."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings

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
