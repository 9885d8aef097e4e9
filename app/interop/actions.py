"""What a person does to the interfaces, each in one function so that the users issue's authorisation
check and audit trail can wrap it: change the interface settings, queue refused messages again. (The
third, `wardwatch export fhir`, is fhir_export.write_bundle.)"""

from __future__ import annotations

import logging

from wardwatch.app.interop.service import InteropService
from wardwatch.app.interop.settings import InteropSettings

log = logging.getLogger(__name__)


def apply_interop_settings(service: InteropService, settings: InteropSettings, save: bool, user: str) -> None:
    """Check the settings (raises ValueError naming the field) and hand them to the running service,
    which restarts its links on its own thread and, with `save`, writes them to the config file."""
    checked = settings.checked()
    log.info("interface settings changed by %s", user)
    service.request_settings(checked, save)


def requeue_refused(service: InteropService, user: str) -> None:
    """Messages the receivers kept refusing are tried again (after IT fixed the cause)."""
    log.info("refused interface messages queued again by %s", user)
    service.request_requeue()
