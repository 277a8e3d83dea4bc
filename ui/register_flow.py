"""The app's steps of a service-ID registration or deletion (screens in ``ui/register.py``).

A mixin of :class:`ui.app.KioskApp`, so that the card tap, the PIN screen, the late-result
guard (``_reply``) and the wipe on idle are the very ones of the patron flow. Card and platform
work runs in thread workers; a PIN goes to the card once, in :meth:`ServiceIdFlow.prove`, and a
wrong one ends the action on its error screen (the patron decides to try again, with staff).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ui.screens import KioskScreen, PinScreen, ProgressScreen, ResultScreen

if TYPE_CHECKING:  # the rest loads when staff first open a registration (ui/app.py)
    from appliance.flow import PendingTap
    from appliance.ports import RegisteredServiceId
    from appliance.register import ServiceIdFlow
    from appliance.values import CardProof, Pin
    from ui.register import ServiceIdSession
    from ui.wiring import Kiosk

REGISTER = "register"  # ui.register.REGISTER

SERVICE_STEPS = ("progress.reading", "progress.card_check", "progress.register")


class ServiceIdSteps:
    service: ServiceIdSession | None = None

    if TYPE_CHECKING:  # what KioskApp (the only class this is mixed into) provides
        kiosk: Kiosk
        _session: int
        _pending: PendingTap | None
        run_worker: Callable[..., Any]

        def _show(self, screen: KioskScreen) -> None: ...
        def _reply(self, session: int, callback: Callable[..., None], *args: Any) -> None: ...
        def _fail(self, session: int, what: str, exc: BaseException) -> None: ...
        def _demo_only_hint(self) -> str: ...

    def _service_flow(self) -> ServiceIdFlow:
        from appliance.register import ServiceIdFlow

        return ServiceIdFlow(self.kiosk.reader, self.kiosk.platform)

    def start_service_ids(self, mode: str = REGISTER) -> None:
        """From the staff menu: a new registration (or deletion), nothing kept from before."""
        from ui.register import ServiceIdFormScreen, ServiceIdSession

        self.service = ServiceIdSession(mode)
        self._show(ServiceIdFormScreen(self.service, 2 * self.kiosk.config.idle_timeout_s))

    def service_next(self) -> None:
        """The form is right: on to the patron's tap, or (after "back") straight to confirm."""
        from ui.register import ServiceIdConfirmScreen, ServiceIdWaitScreen

        if self.service is None:
            return
        timeout = self.kiosk.config.idle_timeout_s
        if self.service.proof is not None:
            self._show(ServiceIdConfirmScreen(self.service, timeout))
        else:
            self._show(ServiceIdWaitScreen(self.service, self._demo_only_hint(), timeout))

    def service_back(self) -> None:
        """A typo seen on the confirm screen: back to the form, number and card proof kept."""
        from ui.register import ServiceIdFormScreen

        if self.service is not None:
            timeout = 2 * self.kiosk.config.idle_timeout_s
            self._show(ServiceIdFormScreen(self.service, timeout))

    def service_card(self) -> None:
        """The patron's card arrived on the wait screen."""
        if self.service is None or self.service.issuer is None:
            return
        self._show(ProgressScreen(1, SERVICE_STEPS))
        session, mode, pin = self._session, self.service.mode, self.service.issuer.pin_required
        self.run_worker(lambda: self._service_begin(session, mode, pin),
                        thread=True, exclusive=True, group="card")  # fmt: skip

    def _service_begin(self, session: int, mode: str, pin_required: bool) -> None:
        timeout = self.kiosk.config.card_timeout_s
        try:
            pending = self._service_flow().begin(mode, pin_required, timeout)
        except Exception as exc:
            self._fail(session, "service-id card read", exc)
            return
        self._reply(session, self._service_pin, pending)

    def _service_pin(self, pending: PendingTap) -> None:
        if not pending.pin_required:
            self.service_prove(pending, None)
            return
        self._pending = pending
        self._show(PinScreen(pending.tries_left, self.kiosk.config.idle_timeout_s))

    def service_prove(self, pending: PendingTap, pin: Pin | None) -> None:
        """The PIN was entered (or the issuer needs none): to the card, once."""
        self._show(ProgressScreen(2, SERVICE_STEPS))
        session = self._session
        self.run_worker(lambda: self._service_prove(session, pending, pin),
                        thread=True, exclusive=True, group="card")  # fmt: skip

    def _service_prove(self, session: int, pending: PendingTap, pin: Pin | None) -> None:
        try:
            proof = self._service_flow().prove(pending, pin)
        except Exception as exc:
            self._fail(session, "service-id proof", exc)
            return
        self._reply(session, self._service_proved, proof)

    def _service_proved(self, proof: CardProof) -> None:
        from ui.register import ServiceIdConfirmScreen

        if self.service is None or self.service.issuer is None:
            return
        self.service.proof, self.service.proof_issuer = proof, self.service.issuer.issuer_id
        self._show(ServiceIdConfirmScreen(self.service, self.kiosk.config.idle_timeout_s))

    def service_send(self) -> None:
        """Staff confirmed: the platform call, with the proof (used once, then forgotten)."""
        service = self.service
        if service is None or service.proof is None or service.issuer is None:
            return
        proof, service.proof, service.proof_issuer = service.proof, None, ""
        self._show(ProgressScreen(3, SERVICE_STEPS))
        session = self._session
        self.run_worker(lambda: self._service_send(session, service, proof),
                        thread=True, exclusive=True, group="platform")  # fmt: skip

    def _service_send(self, session: int, service: ServiceIdSession, proof: CardProof) -> None:
        flow = self._service_flow()
        try:
            if service.mode == REGISTER:
                assert service.number is not None
                stored = flow.register(proof, service.number, address_notice=service.address_notice)
                self._reply(session, self._service_done, stored)
            else:
                assert service.issuer is not None
                flow.delete(proof, service.issuer)
                self._reply(session, self._service_done, None)
        except Exception as exc:
            self._fail(session, "service-id platform call", exc)

    def _service_done(self, stored: RegisteredServiceId | None) -> None:
        service = self.service
        library = service.issuer.name if service and service.issuer else ""
        title, masked, notice = "unregister.done", "", ""
        if stored is not None:  # what the platform stored, masked as every number on screen
            title = "register.done"
            masked = "*" * max(0, len(stored.card_number) - 3) + stored.card_number[-3:]
            notice = "register.notice.yes" if stored.address_notice else "register.notice.no"
        if service is not None:
            service.wipe()
        self.service = None
        detail = f"{library}  {masked}".strip()
        self._show(ResultScreen(title, detail, hint_key=notice,
                                timeout_s=self.kiosk.config.result_screen_s))  # fmt: skip
