"""Dossier search by what people give at the counter (issue 17, item 4): the dossier's code or
its tail ("261207-0001", "0001"), a phone number in any format ("0912 345 678",
"+84 912.345.678"), an ID number (CCCD/CMND, tax code) or the applicant's name with or
without diacritics — answered from indexes, never by scanning the dossiers.

Each kind of key goes to the index that answers it exactly (docs/architecture.md, "Tìm
kiếm hồ sơ"); digits never go to trigrams, where "000" or "091" occur in every other row:

- **Numbers** (phone, ID number) — a B-tree index on an expression that strips the
  separators people and other systems put in them (spaces, dots, dashes, brackets, "+").
  The query normalises what was typed the same way and asks for both the national
  ("0912…") and the international ("84912…") form of a phone number.
- **Codes** (one word with a digit), by their tail or head — PostgreSQL B-trees on
  `reverse(lower(code))` and `lower(code)`; SQLite the FTS5 table's `code` column, checked
  against the row's code.
- **Full names** (two words or more) — the start of the folded name, a B-tree on the part
  of `search_text` after the code; or a procedure's name.
- **One word** — trigrams over the folded `search_text` (code, name, procedure):
  PostgreSQL a GIN `pg_trgm` index; SQLite an FTS5 table with the trigram tokenizer
  (external content: the text is read from `dossiers_dossier`), kept in step by triggers,
  so every writer — services, the bulk row writer of imports and of the demo generator
  (executemany/COPY), raw SQL — updates it in the same transaction. Trigrams need three
  characters: shorter queries are refused with a message rather than scanned.

The candidate ids of each kind are one `UNION ALL` subquery inside the queue's statement, so
a search adds no query to the page; the database looks up those few ids by primary key and
sorts them, instead of walking the queue index and testing every row.

The SQLite triggers and expression indexes live on `dossiers_dossier`; a later migration
that rebuilds that table (SQLite's ALTER TABLE emulation copies it into a new one) drops
them, so `ensure_installed` runs after every `migrate` (post_migrate) and puts back — and
re-indexes from the table — whatever is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.db.models import Q
from django.db.models.expressions import RawSQL

from cchc.errors import InvalidInput
from cchc.vietnamese import fold, nfc

MIN_CHARS = 3  # trigrams: shorter text cannot be looked up in the index
TABLE = "dossiers_dossier"
FTS = "dossiers_dossier_fts"

# Separators stripped from stored phone numbers and ID numbers (same characters as
# `_COMPACT` below strips from what is typed). Literals, not parameters: SQLite matches an
# expression index only against the very same expression text.
_STRIP = (" ", ".", "-", "(", ")", "+")


def _stripped(column: str) -> str:
    sql = column
    for ch in _STRIP:
        sql = f"replace({sql}, '{ch}', '')"
    return sql


PHONE_KEY = _stripped("applicant_phone")
ID_KEY = f"upper({_stripped('applicant_id_number')})"
_COMPACT = re.compile(r"[\s.\-()+]")


@dataclass(frozen=True)
class Terms:
    """What one search box text asks for: one kind of key, so that each goes to the index
    that answers it exactly (digits never go to the trigram index, where "000" or "091"
    occur in every other row)."""

    text: str = ""  # folded words: applicant name, procedure (trigram index)
    code: str = ""  # lower-case code, its tail or its head: no spaces, some digit
    phones: tuple[str, ...] = ()  # phone keys: national and international forms
    id_number: str = ""  # ID number key


_NUMBER = re.compile(r"\+?[\d\s.()\-]+")


def parse(raw: str) -> Terms:
    """The keys of a search text; InvalidInput when it is shorter than `MIN_CHARS`.

    - digits with spaces, dots, dashes, brackets or a leading "+" (9 digits or more): a
      phone or ID number (and, without spaces, a code's tail: "240610-0001");
    - one word with a digit ("240610-0001", "0001", "000.00.30.H06-240610-0001"): a
      dossier code, its tail or its head (or an ID number such as a passport's);
    - anything else: words of the applicant's name or of the procedure."""
    value = nfc(raw)
    folded = fold(value)
    if len(folded.replace(" ", "")) < MIN_CHARS:
        raise InvalidInput(
            f"Nhập ít nhất {MIN_CHARS} ký tự để tìm: mã hồ sơ (hoặc phần cuối của mã), số "
            "điện thoại, số giấy tờ tùy thân hoặc họ tên người nộp.",
            code="queue.search_too_short",
        )
    compact = _COMPACT.sub("", value).upper()
    code = value.lower() if " " not in value and any(c.isdigit() for c in value) else ""
    if _NUMBER.fullmatch(value) and len(compact) >= 9:
        # "0912-345-678" or "240610-0001": a phone number or a code's tail; ask for both.
        phones: set[str] = set()
        if len(compact) <= 12:
            national = compact
            if compact.startswith("84") and len(compact) >= 11:
                national = "0" + compact[2:]
            phones = {compact, national}
            if national.startswith("0"):
                phones.add("84" + national[1:])
        return Terms(code=code, phones=tuple(sorted(phones)), id_number=compact)
    if code:
        id_number = compact if compact.isalnum() and len(compact) >= 6 else ""
        return Terms(code=code, id_number=id_number)
    return Terms(text=folded)


def _phrase(text: str) -> str:
    """An FTS5 phrase (a substring with the trigram tokenizer), quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def _escaped(text: str) -> str:
    """`text` for a LIKE pattern with "\\" as the escape character."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


Part = tuple[str, list[Any]]


def _union(parts: list[Part]) -> RawSQL:
    sql = " UNION ALL ".join(part for part, _ in parts)
    params = [p for _, values in parts for p in values]
    return RawSQL(sql, params)  # noqa: S611 (SQL from constants; values as parameters)


# The folded applicant name and what follows it: `search_text` is "code name procedure"
# (intake, imports and the generator all write it so, and codes have no spaces).
NAME_ONWARDS = "substr(search_text, strpos(search_text, ' ') + 1)"
SQLITE_NAME_ONWARDS = "substr(search_text, instr(search_text, ' ') + 1)"


def _text_ids(vendor: str, text: str) -> list[Part]:
    """Ids of dossiers whose folded `search_text` contains `text` (SQLite: FTS5 trigram).

    The words of a name ("do van thao") are trigrams that occur in most rows ("van",
    " ng"), which makes a trigram look-up read long lists; so a text of two words or more
    is looked up as the start of the applicant's name (a B-tree on `NAME_ONWARDS`: people
    give the name from the family name on) or in a procedure's name, and a single word
    through the trigram index."""
    if " " not in text and vendor == "sqlite":
        return [(f"SELECT rowid FROM {FTS} WHERE {FTS} MATCH %s", [_phrase(text)])]  # noqa: S608
    if " " in text:
        if vendor == "sqlite":  # a range on the expression index (no LIKE on expressions)
            start = (
                f"SELECT id FROM {TABLE} WHERE {SQLITE_NAME_ONWARDS} >= %s "  # noqa: S608
                f"AND {SQLITE_NAME_ONWARDS} < %s",
                [text, text + "\U0010ffff"],
            )
        else:
            start = (f"SELECT id FROM {TABLE} WHERE {NAME_ONWARDS} LIKE %s", [f"{_escaped(text)}%"])  # noqa: S608
        return [
            start,
            (
                f"SELECT id FROM {TABLE} WHERE procedure_id IN "  # noqa: S608
                "(SELECT id FROM catalog_procedure WHERE search_text LIKE %s)",
                [f"%{_escaped(text)}%"],
            ),
        ]
    return [(f"SELECT id FROM {TABLE} WHERE search_text LIKE %s", [f"%{_escaped(text)}%"])]  # noqa: S608


def _code_ids(vendor: str, code: str) -> list[Part]:
    """Ids of dossiers whose code ends with `code` (the whole code, or its tail) or starts
    with it (one desk's, one day's), ignoring case."""
    tail, head = f"%{_escaped(code)}", f"{_escaped(code)}%"
    if vendor == "sqlite":
        # The FTS index finds codes containing it; the row's code keeps those at an end.
        sql = (
            f"SELECT d.id FROM {FTS} JOIN {TABLE} d ON d.id = {FTS}.rowid "  # noqa: S608
            f"WHERE {FTS} MATCH %s AND (d.code LIKE %s ESCAPE '\\' OR d.code LIKE %s ESCAPE '\\')"
        )
        return [(sql, [f"code : {_phrase(code)}", tail, head])]
    return [
        (
            f"SELECT id FROM {TABLE} WHERE reverse(lower(code)) LIKE %s",  # noqa: S608
            [_escaped(code[::-1]) + "%"],
        ),
        (f"SELECT id FROM {TABLE} WHERE lower(code) LIKE %s", [head]),  # noqa: S608
    ]


def _key_ids(terms: Terms) -> list[Part]:
    parts: list[Part] = []
    if terms.phones:
        marks = ", ".join("%s" for _ in terms.phones)
        parts.append((f"SELECT id FROM {TABLE} WHERE {PHONE_KEY} IN ({marks})", list(terms.phones)))  # noqa: S608
    if terms.id_number:
        parts.append((f"SELECT id FROM {TABLE} WHERE {ID_KEY} = %s", [terms.id_number]))  # noqa: S608
    return parts


def matching(terms: Terms, *, personal: Q | None, vendor: str) -> Q:
    """The dossiers a search matches, as a filter for the queue.

    The applicant's name, phone and ID number are personal data: a reader who would see
    them masked (`personal` does not cover the dossier; None means every dossier is
    covered) must not learn them by searching, so outside that reach a text matches the
    dossier's code and its procedure only.
    """
    public: list[Part] = _code_ids(vendor, terms.code) if terms.code else []
    private: list[Part] = [*_key_ids(terms)]
    if terms.text:
        private += _text_ids(vendor, terms.text)
    # One set of candidate ids drives the statement. As a top-level condition the database
    # looks those ids up by primary key; an OR of several sets would make it walk the
    # queue's index and test every row instead. (The text index holds the procedure's
    # name too: a search by procedure name finds its dossiers among the candidates.)
    candidates = Q(pk__in=_union([*public, *private]))
    if personal is None:
        return candidates
    # Among the candidates (a few rows), what may match outside the personal-data reach.
    may_match = personal
    if public:
        may_match |= Q(pk__in=_union(public))
    if terms.text:
        procedures = RawSQL(
            "SELECT id FROM catalog_procedure WHERE search_text LIKE %s",
            [f"%{_escaped(terms.text)}%"],
        )
        may_match |= Q(procedure_id__in=procedures)
    return candidates & may_match


# -- the indexes themselves (installed by migration 0009, checked after every migrate) -----------


def sqlite_statements() -> list[str]:
    """The FTS5 table, its triggers and the key indexes on SQLite (idempotent)."""
    return [
        f"""CREATE VIRTUAL TABLE IF NOT EXISTS {FTS} USING fts5(
              search_text, code, content='{TABLE}', content_rowid='id', tokenize='trigram')""",
        *sqlite_triggers(),
        f"CREATE INDEX IF NOT EXISTS dossier_phone_key ON {TABLE} ({PHONE_KEY})",
        f"CREATE INDEX IF NOT EXISTS dossier_id_key ON {TABLE} ({ID_KEY})",
        f"CREATE INDEX IF NOT EXISTS dossier_name_prefix ON {TABLE} ({SQLITE_NAME_ONWARDS})",
    ]


def sqlite_triggers() -> list[str]:
    new = "new.id, new.search_text, new.code"
    old = "'delete', old.id, old.search_text, old.code"
    columns = f"{FTS}(rowid, search_text, code)"
    delete = f"{FTS}({FTS}, rowid, search_text, code)"
    # Table and column names are this module's constants.
    return [
        f"""CREATE TRIGGER IF NOT EXISTS {FTS}_insert AFTER INSERT ON {TABLE} BEGIN
              INSERT INTO {columns} VALUES ({new}); END""",  # noqa: S608
        f"""CREATE TRIGGER IF NOT EXISTS {FTS}_delete AFTER DELETE ON {TABLE} BEGIN
              INSERT INTO {delete} VALUES ({old}); END""",  # noqa: S608
        f"""CREATE TRIGGER IF NOT EXISTS {FTS}_update AFTER UPDATE OF search_text, code
              ON {TABLE} BEGIN
              INSERT INTO {delete} VALUES ({old});
              INSERT INTO {columns} VALUES ({new}); END""",  # noqa: S608
    ]


# Re-index the FTS table from the dossiers (FTS5's own command for external content).
REBUILD = f"INSERT INTO {FTS}({FTS}) VALUES ('rebuild')"  # noqa: S608 (constants)
TRIGGERS = (f"{FTS}_insert", f"{FTS}_delete", f"{FTS}_update")
KEY_INDEXES = ("dossier_phone_key", "dossier_id_key", "dossier_name_prefix")

SQLITE_REMOVE = [
    f"DROP TRIGGER IF EXISTS {FTS}_insert",
    f"DROP TRIGGER IF EXISTS {FTS}_delete",
    f"DROP TRIGGER IF EXISTS {FTS}_update",
    f"DROP TABLE IF EXISTS {FTS}",
    "DROP INDEX IF EXISTS dossier_phone_key",
    "DROP INDEX IF EXISTS dossier_id_key",
    "DROP INDEX IF EXISTS dossier_name_prefix",
]

POSTGRES_INDEXES = [
    f"CREATE INDEX IF NOT EXISTS dossier_search_trgm ON {TABLE} "
    "USING gin (search_text gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS dossier_code_suffix ON {TABLE} "
    "(reverse(lower(code)) text_pattern_ops)",
    f"CREATE INDEX IF NOT EXISTS dossier_code_prefix ON {TABLE} (lower(code) text_pattern_ops)",
    f"CREATE INDEX IF NOT EXISTS dossier_name_prefix ON {TABLE} "
    f"(({NAME_ONWARDS}) text_pattern_ops)",
    f"CREATE INDEX IF NOT EXISTS dossier_phone_key ON {TABLE} (({PHONE_KEY}))",
    f"CREATE INDEX IF NOT EXISTS dossier_id_key ON {TABLE} (({ID_KEY}))",
]
POSTGRES_REMOVE = [
    f"DROP INDEX IF EXISTS {name}"
    for name in (
        "dossier_search_trgm",
        "dossier_code_suffix",
        "dossier_code_prefix",
        "dossier_name_prefix",
        "dossier_phone_key",
        "dossier_id_key",
    )
]

PG_TRGM_MISSING = (
    "Không tạo được phần mở rộng pg_trgm của PostgreSQL, cần cho chỉ mục tìm kiếm hồ sơ "
    "(the pg_trgm extension could not be created: {error}). Cài gói postgresql-contrib rồi "
    "để quản trị viên cơ sở dữ liệu chạy «CREATE EXTENSION pg_trgm;» trong cơ sở dữ liệu này, "
    "sau đó chạy lại «cchc migrate»."
)


def install(schema_editor: Any) -> None:
    """Create the search indexes (migration 0009). PostgreSQL needs the pg_trgm extension:
    created here if this role may; otherwise a clear error says what to do."""
    connection = schema_editor.connection
    if connection.vendor == "sqlite":
        for sql in sqlite_statements():
            schema_editor.execute(sql)
        schema_editor.execute(REBUILD)
        return
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        present = cursor.fetchone() is not None
    if not present:
        try:
            with connection.cursor() as cursor, _savepoint(connection):
                cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except Exception as exc:  # the database's own reason goes into the message
            raise RuntimeError(PG_TRGM_MISSING.format(error=str(exc).strip())) from exc
    for sql in POSTGRES_INDEXES:
        schema_editor.execute(sql)


def remove(schema_editor: Any) -> None:
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": SQLITE_REMOVE, "postgresql": POSTGRES_REMOVE}.get(vendor, [])
    for sql in statements:
        schema_editor.execute(sql)


def _savepoint(connection: Any) -> Any:
    return transaction.atomic(using=connection.alias, savepoint=True)


def ensure_installed(connection: Any) -> bool:
    """Put back the SQLite triggers and key indexes if a table rebuild dropped them, and
    re-index the FTS table from the dossiers then; True if anything was missing. Does
    nothing before migration 0009 has made the FTS table, and nothing on PostgreSQL
    (ALTER TABLE keeps its indexes)."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name LIKE 'dossier%'")
        names = {row[0] for row in cursor.fetchall()}
        if FTS not in names:
            return False
        if {*TRIGGERS, *KEY_INDEXES} <= names:
            return False
        for sql in sqlite_statements():
            cursor.execute(sql)
        cursor.execute(REBUILD)
    return True


def on_post_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate receiver: only after `migrate` (which passes its plan), not after a
    flush (whose caller may have dropped the triggers on purpose and puts them back)."""
    if kwargs.get("plan") is None:
        return
    ensure_installed(connections[kwargs.get("using") or "default"])
