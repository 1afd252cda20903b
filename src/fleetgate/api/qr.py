"""QR codes as images, for the façades that show an instance's pairing QR."""

from __future__ import annotations

import base64
import io

import segno


def qr_png_base64(payload: str) -> str:
    """A QR code of ``payload`` as a base64-encoded PNG."""
    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=6, border=2)
    return base64.b64encode(buffer.getvalue()).decode()
