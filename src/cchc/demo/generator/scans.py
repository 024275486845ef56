"""Digitisation facts of generated dossiers (issue 21, item 5): what `digitisation.record_intake`
writes for a dossier whose components are scanned at intake, and what a reuse at intake
writes — so that the flags the generator stores (`Dossier.digitised` / `reused_data`,
`DossierComponent.digitised` / `reused`) are exactly what `digitisation.derive` computes from
the rows, never ticked.

Per scanned component: a `StoredFile` (linked to the component) and a `DigitisedComponent`
(holder = the applicant's ID number, digits only; `type_code` as `digitisation.type_code_of`;
scanned at the intake instant — the submission for an online dossier, by its submitter, as
`submit_online` records it; the receipt (else the submission, for a dossier refused at the
counter) for a desk or postal one, by the desk officer of the receipt). The files are a few
small generated PDFs labelled "DỮ LIỆU MẪU", stored once by content hash and shared by every
demo scan (`StoredFile.path`/`sha256`): demo data, not documents.

Per reused component: a `ComponentReuse` pointing to an EARLIER `DigitisedComponent` of the
same holder and type, no file of its own. The generator picks the reuse before the dossier's
rows are built: among the recent scans of that type in the same generation run, scanned
before this dossier's intake, it takes one and makes its holder the applicant (a citizen
coming back with a paper already digitised). A dossier planned as "reused" for which no
earlier scan of any of its components' types exists is written as not reused.
"""

from __future__ import annotations

import zlib
from collections import deque
from typing import Any

from cchc.demo.generator.epochs import stamp
from cchc.dossiers import files
from cchc.dossiers.digitisation import normalise_id, type_code_of
from cchc.dossiers.models import ComponentReuse, DigitisedComponent, StoredFile

# Columns written, in this order: every column of the three tables (raw inserts apply no
# model default, so a column added to them must be added here).
COLUMNS: dict[Any, list[str]] = {
    StoredFile: ["id", "dossier_id", "event_id", "component_id", "name", "content_type", "size",
                 "sha256", "path", "uploaded_at"],
    DigitisedComponent: ["id", "id_number", "type_code", "name", "document_id", "file_id",
                         "dossier_id", "component_id", "scanned_at", "scanned_by_id",
                         "valid_until", "reused_count"],
    ComponentReuse: ["id", "component_id", "dossier_id", "digitised_id", "reused_at",
                     "reused_by_id"],
}  # fmt: skip
MODELS = (StoredFile, DigitisedComponent, ComponentReuse)
VARIANTS = 4  # distinct demo scan files
RECENT = 48  # earlier scans kept per component type as reuse candidates
DEMO_LABEL = "DU LIEU MAU - BAN QUET MINH HOA - KHONG CO GIA TRI PHAP LY"


def demo_pdf(variant: int) -> bytes:
    """A one-page PDF saying it is a demo scan (ASCII text in a standard font)."""
    text = f"{DEMO_LABEL} ({variant + 1})"
    content = f"BT /F1 11 Tf 40 800 Td ({text}) Tj ET".encode("ascii")
    stream = zlib.compress(content)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


class Scans:
    """The digitisation rows of a generation run, and the recent scans by type that later
    dossiers reuse. `postgres`: how instants are written (`epochs.stamp`)."""

    def __init__(self, ids: dict[Any, int], *, postgres: bool) -> None:
        self.postgres = postgres
        self.file_id = ids[StoredFile]
        self.digitised_id = ids[DigitisedComponent]
        self.reuse_id = ids[ComponentReuse]
        self.first_reuse_id = self.reuse_id
        self.rows: dict[Any, list[tuple[Any, ...]]] = {m: [] for m in MODELS}
        # type code -> recent scans (scan instant, DigitisedComponent id, applicant)
        self.recent: dict[str, deque[tuple[int, int, tuple[bool, str, str]]]] = {}
        self.types: dict[str, str] = {}
        self._files: list[tuple[str, int, str, str]] | None = None
        self.unmatched = 0  # planned reuses without an earlier scan: written as not reused

    def take(self) -> dict[Any, list[tuple[Any, ...]]]:
        """The rows built since the last call (their ids are already allocated)."""
        out, self.rows = self.rows, {m: [] for m in MODELS}
        return out

    def type_of(self, name: str) -> str:
        code = self.types.get(name)
        if code is None:
            code = self.types[name] = type_code_of(name)
        return code

    def files(self) -> list[tuple[str, int, str, str]]:
        """(name, size, sha256, path) of the demo scan files, stored on first use."""
        if self._files is None:
            self._files = []
            for variant in range(VARIANTS):
                upload = files.check(f"ban-quet-du-lieu-mau-{variant + 1}.pdf", demo_pdf(variant))
                path = files.store(upload)
                self._files.append((upload.name, upload.size, upload.sha256, path))
        return self._files

    def choose(
        self, docs: list[tuple[int, str, int, int]], at: int, pick: int
    ) -> tuple[int, int, tuple[bool, str, str]] | None:
        """A reuse for a dossier with components `docs` taken in at `at` (epoch seconds):
        (component position, DigitisedComponent id, its holder as an applicant) — an earlier
        scan of the same type — or None."""
        for position, (_doc, name, _o, _c) in enumerate(docs):
            earlier = [r for r in self.recent.get(self.type_of(name), ()) if r[0] < at]
            if earlier:
                _at, source, holder = earlier[pick % len(earlier)]
                return position, source, holder
        return None

    def add(
        self,
        dossier_id: int,
        first_component_id: int,
        docs: list[tuple[int, str, int, int]],
        *,
        at: int,
        by: int | None,
        applicant: tuple[bool, str, str],
        reuse: tuple[int, int, Any] | None,
    ) -> None:
        """The rows of one digitised dossier whose components have ids from
        `first_component_id` in position order; `reuse`: from `choose`."""
        when = stamp(at, self.postgres)
        holder = normalise_id(applicant[2])
        shared = self.files()
        stored, digitised = self.rows[StoredFile], self.rows[DigitisedComponent]
        for position, (doc_id, name, _originals, _copies) in enumerate(docs):
            component_id = first_component_id + position
            if reuse is not None and reuse[0] == position:
                self.rows[ComponentReuse].append(
                    (self.reuse_id, component_id, dossier_id, reuse[1], when, by)
                )
                self.reuse_id += 1
                continue
            file_name, size, sha256, path = shared[position % len(shared)]
            stored.append(
                (self.file_id, dossier_id, None, component_id, file_name, "application/pdf",
                 size, sha256, path, when)
            )  # fmt: skip
            type_code = self.type_of(name)
            digitised.append(
                (self.digitised_id, holder, type_code, name, doc_id, self.file_id, dossier_id,
                 component_id, when, by, None, 0)
            )  # fmt: skip
            if holder:
                recent = self.recent.setdefault(type_code, deque(maxlen=RECENT))
                recent.append((at, self.digitised_id, applicant))
            self.file_id += 1
            self.digitised_id += 1


def count_reuses(first_reuse_id: int) -> str:
    """SQL setting `DigitisedComponent.reused_count` of the scans reused by the links written
    from `first_reuse_id` on (both backends)."""
    dc, cr = DigitisedComponent._meta.db_table, ComponentReuse._meta.db_table
    return (
        f'UPDATE "{dc}" SET reused_count = (SELECT COUNT(*) FROM "{cr}" '  # noqa: S608 (tables from model metadata)
        f'WHERE "{cr}".digitised_id = "{dc}".id) '
        f'WHERE id IN (SELECT digitised_id FROM "{cr}" WHERE id >= {int(first_reuse_id)})'
    )
