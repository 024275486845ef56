"""E-results are issued at approval, on the worker: rendered with their QR code, registered
and signed by the competent agency's certificate before the applicant asks for them
(`CCHC_RESULTS_ISSUED_ON_APPROVAL`); the holder's data store receives a signed result only
with the dossier's return (which the fees rule guards)."""

from __future__ import annotations

from typing import Any

import pytest

from cchc.dossiers import issued, services
from cchc.dossiers.models import (
    DatastoreDelivery,
    DeliveryState,
    IssuedDocument,
    IssuedKind,
    SignState,
)
from cchc.payments.services import record_cash
from tests.portal.conftest import submitted
from tests.portal.test_citizen_results import signed_in

# the signing keys, the local data store and synchronous jobs of the data-store tests
from tests.signing.conftest import desk_p12, pki  # noqa: F401
from tests.test_datastore import _signing  # noqa: F401

pytestmark = pytest.mark.django_db


def _approved(portal: Any, capture: Any) -> Any:
    from cchc.catalog.models import Procedure

    Procedure.objects.filter(pk=portal.procedure.pk).update(result_type="electronic")
    dossier = submitted(portal)
    services.act(portal.desk_officer, dossier, "receive")
    services.act(portal.leader, dossier, "assign", data={"assignee": portal.officer.pk})
    services.act(portal.officer, dossier, "propose")
    record_cash(portal.desk_officer, dossier, dossier.fee_total)
    with capture(execute=True):
        services.act(portal.leader, dossier, "approve")
    dossier.refresh_from_db()
    return dossier


def test_approval_issues_and_signs_the_result_and_the_return_delivers_it(
    portal: Any, clock: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CCHC_RESULTS_ISSUED_ON_APPROVAL = True
    capture = django_capture_on_commit_callbacks
    dossier = _approved(portal, capture)
    doc = IssuedDocument.objects.get(dossier=dossier, kind=IssuedKind.RESULT)
    assert doc.issued_by_id is None  # issued by the worker, nobody downloaded it
    assert doc.signed == SignState.SIGNED, doc.sign_error
    assert doc.signed_by_subject  # the signer is recorded on the document
    # Approved, not returned: nothing in the holder's store yet.
    assert not DatastoreDelivery.objects.filter(dossier=dossier).exists()
    with capture(execute=True):
        services.act(portal.desk_officer, dossier, "return_result")
    delivery = DatastoreDelivery.objects.get(dossier=dossier)
    assert delivery.state == DeliveryState.SENT and delivery.document_id == doc.pk
    dossier.refresh_from_db()
    assert dossier.result_in_datastore
    # The owner's download is the signed document issued at approval, not a new one.
    response = signed_in(portal.citizen).get(f"/dich-vu-cong/ho-so/{dossier.code}/ket-qua/1/")
    assert response.status_code == 200
    assert IssuedDocument.objects.filter(dossier=dossier, kind=IssuedKind.RESULT).count() == 1
    doc.refresh_from_db()
    assert response.content == issued.content(doc)


def test_switched_off_the_result_is_issued_on_the_first_download(
    portal: Any, clock: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CCHC_RESULTS_ISSUED_ON_APPROVAL = False
    dossier = _approved(portal, django_capture_on_commit_callbacks)
    assert not IssuedDocument.objects.filter(dossier=dossier, kind=IssuedKind.RESULT).exists()


def test_an_imported_dossier_is_not_issued(
    portal: Any, clock: Any, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from cchc.dossiers.models import Dossier
    from cchc.portal import results

    settings.CCHC_RESULTS_ISSUED_ON_APPROVAL = True
    dossier = _approved(portal, django_capture_on_commit_callbacks)
    Dossier.objects.filter(pk=dossier.pk).update(source="vendor")
    dossier.refresh_from_db()
    event = dossier.events.order_by("-seq").first()
    with django_capture_on_commit_callbacks() as queued:
        results.on_dossier_changed(Dossier, before=None, after=dossier, event=event)
    assert queued == []
