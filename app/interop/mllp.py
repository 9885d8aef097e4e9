"""MLLP framing (HL7 v2 transport, release 1): `0x0B` message `0x1C 0x0D`, pure and bounded.

Written here rather than taken from python-hl7 because that library's MLLP reader is tied to asyncio
streams, while the station's links are plain threads; the rules are the same (start and end bytes, a
size limit, and after an overrun the reader drops everything up to the next start byte).
"""

from __future__ import annotations

from dataclasses import dataclass

START = b"\x0b"
END = b"\x1c\x0d"
MAX_FRAME_BYTES = 1_048_576


def frame(message: str) -> bytes:
    """One message in its envelope; segments must already end in CR."""
    return START + message.encode("utf-8") + END


@dataclass(frozen=True, slots=True)
class FrameError:
    """Bytes that were not a message: `reason` is "garbage" (outside any frame) or "oversized"."""

    reason: str
    size: int


class MllpReader:
    """Feeds bytes in, gives whole messages (as bytes, without the envelope) and framing errors out."""

    def __init__(self, max_bytes: int = MAX_FRAME_BYTES) -> None:
        self._max = max_bytes
        self._buffer = bytearray()
        self._in_frame = False
        self._skipping = 0  # bytes dropped since an overrun, until the next start byte

    def feed(self, data: bytes) -> list[bytes | FrameError]:
        out: list[bytes | FrameError] = []
        self._buffer += data
        while self._buffer:
            if not self._in_frame:
                start = self._buffer.find(START)
                if start < 0:
                    self._note_garbage(out, len(self._buffer))
                    self._buffer.clear()
                    break
                if start > 0:
                    self._note_garbage(out, start)
                    del self._buffer[:start]
                self._flush_skipped(out)
                del self._buffer[:1]
                self._in_frame = True
            end = self._buffer.find(END)
            if end < 0:
                if len(self._buffer) > self._max:
                    out.append(FrameError("oversized", len(self._buffer)))
                    self._skipping = -1  # stay quiet until a new frame starts
                    self._buffer.clear()
                    self._in_frame = False
                break
            if end > self._max:
                out.append(FrameError("oversized", end))
            else:
                out.append(bytes(self._buffer[:end]))
            del self._buffer[: end + len(END)]
            self._in_frame = False
        return out

    def _note_garbage(self, out: list[bytes | FrameError], size: int) -> None:
        if self._skipping < 0:
            return  # the rest of an oversized frame, already reported
        self._skipping += size

    def _flush_skipped(self, out: list[bytes | FrameError]) -> None:
        if self._skipping > 0:
            out.append(FrameError("garbage", self._skipping))
        self._skipping = 0

    def pending_garbage(self) -> FrameError | None:
        """Garbage seen with no frame after it yet (a peer that sends only junk)."""
        return FrameError("garbage", self._skipping) if self._skipping > 0 else None
