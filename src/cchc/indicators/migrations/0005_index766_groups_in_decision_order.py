"""QĐ 766/QĐ-TTg lists group 3 as "Số hóa hồ sơ" and group 4 as "Cung cấp dịch vụ trực
tuyến"; definition 2022.1 had them swapped. Stored results follow the new numbering:

- published figures: group "3" <-> "4" and sub-indicator codes "3x" <-> "4x". They were
  entered against our rows (the reconciliation page showed "Nhóm 3. Cung cấp dịch vụ trực
  tuyến"), so each keeps its content under the new code of that content. A group figure
  imported from a file that already used the decision's numbering was filed under the wrong
  group before and moves with the rest: its source gets a note (GROUP_NOTE, removed again by
  the reverse) so an administrator can check the swapped group figures;
- loaded 766 definitions in the old order: a converted copy is added as a new version
  (`<version>-qd766`, source naming this migration), loaded after the old one so it wins
  for the same periods; the old version stays as history (a version is never edited).

Weekly ranking snapshots and the cells hold no group or sub-indicator codes. Reversible:
the swap is its own inverse, and the reverse deletes the converted copies.
"""

import datetime as dt
import hashlib
import json

from django.db import migrations, models
from django.utils import timezone

MARK = "migration indicators/0005 (thứ tự nhóm QĐ 766)"
SUFFIX = "-qd766"
GROUP_NOTE = " [mã nhóm đổi 3↔4 theo thứ tự QĐ 766: migration indicators/0005]"


def swap(code):
    """'3' <-> '4', '3a' <-> '4a'; anything else unchanged."""
    if code[:1] == "3" and (len(code) == 1 or code[1:].isalpha()):
        return "4" + code[1:]
    if code[:1] == "4" and (len(code) == 1 or code[1:].isalpha()):
        return "3" + code[1:]
    return code


def swap_published(apps, schema_editor, *, forward=True):
    Figure = apps.get_model("indicators", "PublishedFigure")
    rows = [r for r in Figure.objects.all() if swap(r.code) != r.code]
    # Two steps: "3" -> "4" would collide with an existing "4" of the same period and unit.
    for r in rows:
        r.code = "~" + swap(r.code)
        r.save(update_fields=["code"])
    for r in rows:
        r.code = r.code[1:]
        if len(r.code) == 1:
            if forward:
                r.source = r.source[: 500 - len(GROUP_NOTE)] + GROUP_NOTE
            else:
                r.source = r.source.replace(GROUP_NOTE, "")
        r.save(update_fields=["code", "source"])


def old_order(content):
    groups = {str(g.get("code")): str(g.get("name", "")) for g in content.get("groups", [])}
    return "dịch vụ trực tuyến" in groups.get("3", "").lower()


def converted(content):
    out = json.loads(json.dumps(content))
    for g in out.get("groups", []):
        g["code"] = swap(str(g["code"]))
    out["groups"] = sorted(out.get("groups", []), key=lambda g: str(g["code"]))
    for s in out.get("subs", []):
        s["code"] = swap(str(s["code"]))
        s["group"] = swap(str(s["group"]))
    out["subs"] = sorted(out.get("subs", []), key=lambda s: (str(s["group"]), str(s["code"])))
    return out


def convert_definitions(apps, schema_editor):
    DefinitionSet = apps.get_model("indicators", "DefinitionSet")
    now = timezone.now()
    olds = DefinitionSet.objects.filter(kind="index766").order_by("loaded_at", "pk")
    for n, row in enumerate(list(olds)):
        if not old_order(row.content):
            continue
        version = row.version[: 30 - len(SUFFIX)] + SUFFIX
        if DefinitionSet.objects.filter(code=row.code, version=version).exists():
            continue
        content = converted(row.content)
        content.setdefault("definition", {})["version"] = version
        text = json.dumps(content, ensure_ascii=False, sort_keys=True)
        DefinitionSet.objects.create(
            kind=row.kind,
            code=row.code,
            version=version,
            effective_from=row.effective_from,
            content=content,
            source=f"{MARK}: {row.source}"[:300],
            sha256=hashlib.sha256(text.encode()).hexdigest(),
            loaded_at=now + dt.timedelta(microseconds=n),
        )


def forward(apps, schema_editor):
    swap_published(apps, schema_editor)
    convert_definitions(apps, schema_editor)


def backward(apps, schema_editor):
    DefinitionSet = apps.get_model("indicators", "DefinitionSet")
    DefinitionSet.objects.filter(kind="index766", source__startswith=MARK).delete()
    swap_published(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        ("indicators", "0004_cells_version"),
    ]

    operations = [
        migrations.AlterField(
            model_name="publishedfigure",
            name="code",
            field=models.CharField(
                help_text=(
                    "total, nhóm 1–5 theo QĐ 766, cột của Cổng DVC quốc gia (4-dvc, 4-tt), "
                    "điểm trừ do lỗi kỹ thuật, đồng bộ (tru-diem) hoặc chỉ số thành phần 1a, 2a…"
                ),
                max_length=20,
                verbose_name="Chỉ số",
            ),
        ),
        migrations.RunPython(forward, backward),
    ]
