"""A pyusb backend double: one USB printer-class device whose far end is the emulated printer.

Injected at the only seam python-escpos's ``Usb`` has, ``usb.core.find(backend=...)``, so the
real python-escpos ``Usb`` and the real pyusb ``Device`` (descriptor walk, endpoint lookup,
interface claim, bulk transfers) run unchanged; only libusb and the wire are replaced. It is a
unit test of our adapter's translation of what pyusb reports, not a hardware test: what a real
printer sends back over USB is the same DLE EOT answer byte as over TCP (ESC/POS), which
:class:`~tests.support.escpos_emulator.EmulatedPrinter` produces.

Fault switches: ``plugged`` (enumeration finds nothing), ``fail_write`` + ``fail_after`` (bulk
write number ``fail_write``, counted from 1, delivers only ``fail_after`` bytes, then fails with
``USBError`` EIO, as libusb reports a cable pulled mid-transfer), ``stall_reads`` (status reads
time out: ``USBTimeoutError``).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import usb.backend
import usb.core

from tests.support.escpos_emulator import EmulatedPrinter

VENDOR, PRODUCT = 0x04B8, 0x0E15  # an Epson TM-T20II's IDs
OUT_EP, IN_EP = 0x01, 0x82  # python-escpos Usb's default endpoints
_BULK = 0x02


@dataclass
class UsbPrinterBackend(usb.backend.IBackend):  # type: ignore[misc]
    printer: EmulatedPrinter = field(default_factory=EmulatedPrinter)
    plugged: bool = True
    fail_write: int | None = None
    fail_after: int = 0
    stall_reads: bool = False
    writes: list[int] = field(default_factory=list)  # bytes delivered per bulk write
    opened: int = 0
    closed: int = 0
    _answers: bytearray = field(default_factory=bytearray)

    def __post_init__(self) -> None:
        super().__init__()

    # -- enumeration and descriptors (one device, one configuration, one printer interface) -----

    def enumerate_devices(self) -> list[str]:
        return ["printer"] if self.plugged else []

    def get_device_descriptor(self, dev: Any) -> Any:
        return SimpleNamespace(
            bLength=18, bDescriptorType=1, bcdUSB=0x0200, bDeviceClass=0, bDeviceSubClass=0,
            bDeviceProtocol=0, bMaxPacketSize0=64, idVendor=VENDOR, idProduct=PRODUCT,
            bcdDevice=0x0100, iManufacturer=0, iProduct=0, iSerialNumber=0,
            bNumConfigurations=1, address=5, bus=1, port_number=1, port_numbers=(1,), speed=3,
        )  # fmt: skip

    def get_configuration_descriptor(self, dev: Any, config: int) -> Any:
        return SimpleNamespace(
            bLength=9, bDescriptorType=2, wTotalLength=32, bNumInterfaces=1,
            bConfigurationValue=1, iConfiguration=0, bmAttributes=0xC0, bMaxPower=50,
            extra_descriptors=[],
        )  # fmt: skip

    def get_interface_descriptor(self, dev: Any, intf: int, alt: int, config: int) -> Any:
        return SimpleNamespace(
            bLength=9, bDescriptorType=4, bInterfaceNumber=0, bAlternateSetting=0,
            bNumEndpoints=2, bInterfaceClass=7, bInterfaceSubClass=1, bInterfaceProtocol=2,
            iInterface=0, extra_descriptors=[],
        )  # fmt: skip

    def get_endpoint_descriptor(self, dev: Any, ep: int, intf: int, alt: int, config: int) -> Any:
        return SimpleNamespace(
            bLength=7, bDescriptorType=5, bEndpointAddress=(OUT_EP, IN_EP)[ep],
            bmAttributes=_BULK, wMaxPacketSize=64, bInterval=0, bRefresh=0, bSynchAddress=0,
            extra_descriptors=[],
        )  # fmt: skip

    # -- handle, configuration, interface ------------------------------------------------------

    def open_device(self, dev: Any) -> str:
        if not self.plugged:
            raise usb.core.USBError("No such device", errno=errno.ENODEV)
        self.opened += 1
        return "handle"

    def close_device(self, dev_handle: Any) -> None:
        self.closed += 1

    def set_configuration(self, dev_handle: Any, config_value: int) -> None:
        pass

    def get_configuration(self, dev_handle: Any) -> int:
        return 1

    def set_interface_altsetting(self, dev_handle: Any, intf: int, altsetting: int) -> None:
        pass

    def claim_interface(self, dev_handle: Any, intf: int) -> None:
        pass

    def release_interface(self, dev_handle: Any, intf: int) -> None:
        pass

    def reset_device(self, dev_handle: Any) -> None:
        pass

    # -- the wire -------------------------------------------------------------------------------

    def bulk_write(self, dev_handle: Any, ep: int, intf: int, data: Any, timeout: int) -> int:
        assert ep == OUT_EP
        payload = bytes(data)
        if self.fail_write == len(self.writes) + 1:
            self._deliver(payload[: self.fail_after])
            raise usb.core.USBError("Input/Output Error", error_code=-1, errno=errno.EIO)
        self._deliver(payload)
        return len(payload)

    def bulk_read(self, dev_handle: Any, ep: int, intf: int, buff: Any, timeout: int) -> int:
        assert ep == IN_EP
        if self.stall_reads or not self._answers:
            raise usb.core.USBTimeoutError("Operation timed out", error_code=-7,
                                           errno=errno.ETIMEDOUT)  # fmt: skip
        count = min(len(buff), len(self._answers))
        for i in range(count):
            buff[i] = self._answers[i]
        del self._answers[:count]
        return count

    def _deliver(self, data: bytes) -> None:
        self.writes.append(len(data))
        self._answers.extend(self.printer.receive(data))
