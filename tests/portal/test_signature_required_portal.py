"""The citizen is told before submitting which documents must be digitally signed (issue 21
leftovers, item 3): the procedure page and the submission form mark them, since the desk
refuses to receive a file whose signature check failed."""

from __future__ import annotations

import pytest
from django.test import Client

from cchc.catalog.models import Procedure, RequiredDocument

pytestmark = pytest.mark.django_db

CODE = "1.009999"


def test_documents_that_must_be_signed_are_marked(portal) -> None:
    procedure = Procedure.objects.get(code=CODE)
    first = procedure.documents.order_by("position").first()
    client = Client()
    client.force_login(portal.citizen)
    form = client.get(f"/dich-vu-cong/thu-tuc/{CODE}/nop/").content.decode()
    assert "data-signature-required" not in form
    RequiredDocument.objects.filter(pk=first.pk).update(signature_required=True)
    page = client.get(f"/dich-vu-cong/thu-tuc/{CODE}/").content.decode()
    assert page.count("data-signature-required") == 1 and "yêu cầu ký số" in page
    form = client.get(f"/dich-vu-cong/thu-tuc/{CODE}/nop/").content.decode()
    assert form.count("data-signature-required") == 1
    assert "Yêu cầu tệp PDF có chữ ký số hợp lệ" in form
    block = form[form.index(f'data-document="{first.pk}"') :]
    assert block.index("data-signature-required") < block.index("</div>")
